module github.com/switchyard/switchyard/tests

go 1.26

require (
	github.com/switchyard/switchyard/pkg v0.0.0
	github.com/switchyard/switchyard/services/gateway v0.0.0
	github.com/switchyard/switchyard/services/registry v0.0.0
	github.com/switchyard/switchyard/services/credential v0.0.0
	github.com/switchyard/switchyard/services/healthcheck v0.0.0
	github.com/switchyard/switchyard/services/router v0.0.0
	github.com/switchyard/switchyard/services/metering v0.0.0
)

replace (
	github.com/switchyard/switchyard/pkg => ../pkg
	github.com/switchyard/switchyard/services/gateway => ../services/gateway
	github.com/switchyard/switchyard/services/registry => ../services/registry
	github.com/switchyard/switchyard/services/credential => ../services/credential
	github.com/switchyard/switchyard/services/healthcheck => ../services/healthcheck
	github.com/switchyard/switchyard/services/router => ../services/router
	github.com/switchyard/switchyard/services/metering => ../services/metering
)
