module github.com/switchyard/switchyard/services/gateway

go 1.26

require (
	github.com/switchyard/switchyard/pkg v0.0.0
	github.com/switchyard/switchyard/services/registry v0.0.0
	github.com/switchyard/switchyard/services/credential v0.0.0
	github.com/switchyard/switchyard/services/healthcheck v0.0.0
	github.com/switchyard/switchyard/services/router v0.0.0
	github.com/switchyard/switchyard/services/metering v0.0.0
)

replace (
	github.com/switchyard/switchyard/pkg => ../../pkg
	github.com/switchyard/switchyard/services/registry => ../registry
	github.com/switchyard/switchyard/services/credential => ../credential
	github.com/switchyard/switchyard/services/healthcheck => ../healthcheck
	github.com/switchyard/switchyard/services/router => ../router
	github.com/switchyard/switchyard/services/metering => ../metering
)
