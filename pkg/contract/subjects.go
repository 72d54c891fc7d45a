package contract

// Subject prefixes. Admin subjects take and return protojson so the real
// `nats` CLI is a usable admin client; internal RPC subjects use protojson
// too (they are low volume); usage events use binary protobuf.
const (
	adminPrefix = "sy.admin.v1."
	rpcPrefix   = "sy.rpc.v1."
	evtPrefix   = "sy.evt."
)

// Admin request/reply subjects (operators: syctl, nats req).
const (
	SubjServicesRegister   = adminPrefix + "services.register"
	SubjServicesGet        = adminPrefix + "services.get"
	SubjServicesList       = adminPrefix + "services.list"
	SubjServicesUpdate     = adminPrefix + "services.update"
	SubjServicesDeregister = adminPrefix + "services.deregister"
	SubjCredentialsRotate  = adminPrefix + "credentials.rotate"
	SubjKeysCreate         = adminPrefix + "keys.create"
	SubjKeysList           = adminPrefix + "keys.list"
	SubjKeysRevoke         = adminPrefix + "keys.revoke"
	SubjKeysUpdate         = adminPrefix + "keys.update"
	SubjAliasesPut         = adminPrefix + "aliases.put"
	SubjAliasesGet         = adminPrefix + "aliases.get"
	SubjAliasesList        = adminPrefix + "aliases.list"
	SubjAliasesDelete      = adminPrefix + "aliases.delete"
	SubjUsageQuery         = adminPrefix + "usage.query"
)

// Internal request/reply subjects (service to service).
const (
	SubjHealthProbe       = rpcPrefix + "health.probe"
	SubjCredentialPut     = rpcPrefix + "credential.put"
	SubjCredentialDelete  = rpcPrefix + "credential.delete"
	SubjCredentialResolve = rpcPrefix + "credential.resolve"
)

// Event subject filters, one per stream. Builders below fill the variable
// tokens.
const (
	SubjRegistryEvents   = evtPrefix + "registry.>"
	SubjHealthEvents     = evtPrefix + "health.>"
	SubjUsageEvents      = evtPrefix + "usage.>"
	SubjRollupEvents     = evtPrefix + "metering.rollup.>"
	SubjCredentialEvents = evtPrefix + "credential.>"
)

// Owners: registry serves services.* and aliases.* (and writes sy_routes);
// the router serves keys.* (and writes sy_keys); credential serves
// credentials.*; metering serves usage.*.

// Registry event verbs.
const (
	VerbRegistered   = "registered"
	VerbUpdated      = "updated"
	VerbDeregistered = "deregistered"
)

// RegistryEvent is sy.evt.registry.<service>.<verb>.
func RegistryEvent(service, verb string) string {
	return evtPrefix + "registry." + Token(service) + "." + Token(verb)
}

// HealthChanged is sy.evt.health.<service>.changed.
func HealthChanged(service string) string {
	return evtPrefix + "health." + Token(service) + ".changed"
}

// CredentialChanged is sy.evt.credential.<name>.changed: the key behind a
// stored credential (a file source) changed, so whoever caches it resolves
// it again. It carries no key.
func CredentialChanged(name string) string {
	return evtPrefix + "credential." + Token(name) + ".changed"
}

// UsageRecorded is sy.evt.usage.<consumer>.recorded.
func UsageRecorded(consumer string) string {
	return evtPrefix + "usage." + Token(consumer) + ".recorded"
}

// RollupPublished is sy.evt.metering.rollup.<window>.
func RollupPublished(window string) string {
	return evtPrefix + "metering.rollup." + Token(window)
}

// Queue groups: one per service, so replicas of a service share admin and
// RPC requests while different services never steal each other's messages.
const (
	QueueRegistry    = "registry"
	QueueCredential  = "credential"
	QueueHealthcheck = "healthcheck"
	QueueRouter      = "router"
	QueueMetering    = "metering"
)
