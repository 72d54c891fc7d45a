module github.com/switchyard/switchyard/deploy/tools

go 1.26.0
