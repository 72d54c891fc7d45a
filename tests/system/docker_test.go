// Package system holds Switchyard's fault tests across containers
// (TEST-PLAN F1, F4, F6, F7, F13/F14): the split deployment of compose.yaml
// — a three-node TLS JetStream cluster with per-service users, Redis, the
// five services with two routers — started from the locally built images
// on its own docker network with github.com/ory/dockertest/v3, then hurt:
// a NATS node killed or partitioned, a router killed with streams open,
// the control-plane services stopped, Redis stopped. Each test prints its
// figures (requests, errors, lost, duplicated, recovery time); RELIABILITY.md
// records them. The tests need a reachable Docker daemon and skip, saying
// so, only when there is none. Images are built once if missing
// (deploy/build-images.sh); `make test-system` rebuilds them and runs only
// these tests.
package system

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ory/dockertest/v3"
	dc "github.com/ory/dockertest/v3/docker"
)

// repoRoot is the checkout, relative to this package.
const repoRoot = "../.."

var (
	pool       *dockertest.Pool
	dockerErr  error
	imagesOnce sync.Once
	imagesErr  error
)

func TestMain(m *testing.M) {
	pool, dockerErr = dockertest.NewPool("")
	if dockerErr == nil {
		pool.MaxWait = 2 * time.Minute
		dockerErr = pool.Client.Ping()
	}
	code := m.Run()
	if shared != nil {
		shared.close()
	}
	os.Exit(code)
}

// needDocker skips the test only when no Docker daemon answers.
func needDocker(t *testing.T) {
	t.Helper()
	if dockerErr != nil {
		t.Skipf("SKIP: the Docker daemon is unreachable (%v); these fault tests need docker", dockerErr)
	}
}

// images the stack runs; SWITCHYARD_IMAGE_PREFIX/TAG as in compose.yaml.
var images = []string{"nats", "redis", "registry", "credential", "healthcheck", "router", "metering", "switchyard", "fakeupstream"}

func imageRef(name string) string {
	prefix, tag := os.Getenv("SWITCHYARD_IMAGE_PREFIX"), os.Getenv("SWITCHYARD_IMAGE_TAG")
	if prefix == "" {
		prefix = "switchyard/"
	}
	if tag == "" {
		tag = "local"
	}
	return prefix + name + ":" + tag
}

// ensureImages builds the images once (deploy/build-images.sh) if one is
// missing or older than the newest Go source it is built from, so a plain
// `go test` never runs yesterday's binaries. `make test` and `make
// test-system` build them first.
func ensureImages(t *testing.T) {
	t.Helper()
	imagesOnce.Do(func() {
		why := staleImages()
		if why == "" {
			return
		}
		t.Logf("%s: running deploy/build-images.sh", why)
		began := time.Now()
		out, err := exec.Command(filepath.Join(repoRoot, "deploy", "build-images.sh")).CombinedOutput()
		if err != nil {
			imagesErr = fmt.Errorf("deploy/build-images.sh: %v\n%s", err, out)
		}
		t.Logf("images built in %v", time.Since(began).Round(time.Second))
	})
	if imagesErr != nil {
		t.Fatal(imagesErr)
	}
}

// staleImages says why the images must be built, or "". Docker reuses a
// cached image when a binary did not change, so freshness is judged by the
// binaries build-images.sh leaves in deploy/.build/bin.
func staleImages() string {
	for _, name := range images {
		if _, err := pool.Client.InspectImage(imageRef(name)); err != nil {
			return "image " + imageRef(name) + " missing"
		}
	}
	oldest := time.Now()
	for _, bin := range []string{"registry", "credential", "healthcheck", "router", "metering", "switchyard", "fakeupstream"} {
		info, err := os.Stat(filepath.Join(repoRoot, "deploy", ".build", "bin", bin))
		if err != nil {
			return "binary " + bin + " not built here"
		}
		if info.ModTime().Before(oldest) {
			oldest = info.ModTime()
		}
	}
	if newest, file := newestSource(); newest.After(oldest) {
		return fmt.Sprintf("%s changed after the images were built", file)
	}
	return ""
}

// newestSource is the latest-modified Go source or go.mod the images are
// built from.
func newestSource() (time.Time, string) {
	var newest time.Time
	var file string
	for _, dir := range []string{"pkg", "services", "tests/fakes", "deploy/tools"} {
		_ = filepath.WalkDir(filepath.Join(repoRoot, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "go.mod")) ||
				strings.HasSuffix(path, "_test.go") {
				return nil
			}
			if info, err := d.Info(); err == nil && info.ModTime().After(newest) {
				newest, file = info.ModTime(), path
			}
			return nil
		})
	}
	return newest, file
}

// box is one container of the stack.
type box struct {
	alias string // its DNS name on the stack's network
	id    string
	ports map[string]int // container port ("8080/tcp") -> host port on 127.0.0.1
}

// spec describes a container to run.
type spec struct {
	alias, image string
	env, cmd     []string
	binds        []string
	ports        []string // container ports to publish on 127.0.0.1
}

// freePort picks a host port for a published container port. Fixed ports
// keep their number across a container restart (docker picks a new random
// one otherwise).
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *stack) create(sp spec) (*box, error) {
	b := &box{alias: sp.alias, ports: map[string]int{}}
	exposed := map[dc.Port]struct{}{}
	bindings := map[dc.Port][]dc.PortBinding{}
	for _, p := range sp.ports {
		hp, err := freePort()
		if err != nil {
			return nil, err
		}
		b.ports[p] = hp
		exposed[dc.Port(p)] = struct{}{}
		bindings[dc.Port(p)] = []dc.PortBinding{{HostIP: "127.0.0.1", HostPort: strconv.Itoa(hp)}}
	}
	c, err := pool.Client.CreateContainer(dc.CreateContainerOptions{
		Name: s.prefix + sp.alias,
		Config: &dc.Config{Image: sp.image, Env: sp.env, Cmd: sp.cmd, ExposedPorts: exposed,
			Labels: map[string]string{"switchyard-system-test": s.prefix}},
		HostConfig: &dc.HostConfig{Binds: sp.binds, PortBindings: bindings, NetworkMode: s.net.Network.Name},
		NetworkingConfig: &dc.NetworkingConfig{EndpointsConfig: map[string]*dc.EndpointConfig{
			s.net.Network.Name: {Aliases: []string{sp.alias}}}},
	})
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", sp.alias, err)
	}
	b.id = c.ID
	return b, nil
}

func (b *box) start() error { return pool.Client.StartContainer(b.id, nil) }

func (b *box) kill() error {
	return pool.Client.KillContainer(dc.KillContainerOptions{ID: b.id, Signal: dc.SIGKILL})
}

func (b *box) stop() error { return pool.Client.StopContainer(b.id, 10) }

// disconnect cuts the container off the stack's network (a partition).
func (s *stack) disconnect(b *box) error {
	return pool.Client.DisconnectNetwork(s.net.Network.ID, dc.NetworkConnectionOptions{Container: b.id, Force: true})
}

// reconnect heals it, with its DNS alias back.
func (s *stack) reconnect(b *box) error {
	return pool.Client.ConnectNetwork(s.net.Network.ID, dc.NetworkConnectionOptions{Container: b.id,
		EndpointConfig: &dc.EndpointConfig{Aliases: []string{b.alias}}})
}

// hostAddr is 127.0.0.1:<published port>.
func (b *box) hostAddr(port string) string {
	return "127.0.0.1:" + strconv.Itoa(b.ports[port])
}

// logs returns the container's last lines, for failure messages.
func (b *box) logs(lines int) string {
	var out safeBuffer
	_ = pool.Client.Logs(dc.LogsOptions{Container: b.id, OutputStream: &out, ErrorStream: &out,
		Stdout: true, Stderr: true, Tail: strconv.Itoa(lines)})
	return out.String()
}

// safeBuffer is a bytes.Buffer for the docker client's log streams.
type safeBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

func dcRemove(id string) dc.RemoveContainerOptions {
	return dc.RemoveContainerOptions{ID: id, Force: true, RemoveVolumes: true}
}
