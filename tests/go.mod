module github.com/switchyard/switchyard/tests

go 1.26.0

require (
	github.com/switchyard/switchyard/pkg v0.0.0
	github.com/switchyard/switchyard/services/credential v0.0.0
	github.com/switchyard/switchyard/services/gateway v0.0.0
	github.com/switchyard/switchyard/services/healthcheck v0.0.0
	github.com/switchyard/switchyard/services/metering v0.0.0
	github.com/switchyard/switchyard/services/registry v0.0.0
	github.com/switchyard/switchyard/services/router v0.0.0
)

require (
	github.com/coder/websocket v1.8.15 // indirect
	github.com/openai/openai-go/v3 v3.96.0 // indirect
	github.com/tidwall/gjson v1.20.0 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.1 // indirect
	github.com/tidwall/sjson v1.2.5 // indirect
)

replace (
	github.com/switchyard/switchyard/pkg => ../pkg
	github.com/switchyard/switchyard/services/credential => ../services/credential
	github.com/switchyard/switchyard/services/gateway => ../services/gateway
	github.com/switchyard/switchyard/services/healthcheck => ../services/healthcheck
	github.com/switchyard/switchyard/services/metering => ../services/metering
	github.com/switchyard/switchyard/services/registry => ../services/registry
	github.com/switchyard/switchyard/services/router => ../services/router
)
