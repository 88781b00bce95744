// Package deploy holds the checks of Kefu's deployment files: the compose
// file (loaded with compose-go, the loader Docker Compose uses), the Helm
// chart (helm lint and helm template, with helm built from its module), the
// load balancer configurations and the systemd units.
//
// It is a module of its own so that the main module does not depend on
// compose-go and helm: run its tests with `cd deploy && go test ./...`
// (deploy/testenv/test.sh does).
package deploy
