module github.com/switchyard/switchyard/services/healthcheck

go 1.26

require github.com/switchyard/switchyard/pkg v0.0.0

replace github.com/switchyard/switchyard/pkg => ../../pkg
