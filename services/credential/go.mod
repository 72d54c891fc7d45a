module github.com/switchyard/switchyard/services/credential

go 1.26

require github.com/switchyard/switchyard/pkg v0.0.0

replace github.com/switchyard/switchyard/pkg => ../../pkg
