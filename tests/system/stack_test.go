package system

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/ory/dockertest/v3"
)

// stack is one running split deployment. The tests share it (starting
// it is most of their cost) and each leaves it healthy for the next.
type stack struct {
	prefix  string // container names: <prefix><alias>
	net     *dockertest.Network
	secrets string // deploy/gen-secrets.sh output
	boxes   map[string]*box
	admin   *nats.Conn // the admin user, from the host, over TLS
	js      jetstream.JetStream
}

var (
	shared     *stack
	sharedOnce sync.Once
	sharedErr  error
)

// opsPorts are the services' /readyz ports.
var opsPorts = map[string]string{
	"registry": "9101/tcp", "credential": "9102/tcp", "healthcheck": "9103/tcp",
	"router-1": "9104/tcp", "router-2": "9104/tcp", "metering": "9105/tcp",
}

var natsNodes = []string{"nats-1", "nats-2", "nats-3"}

// stackFor returns the shared stack, started on first use, healthy.
func stackFor(t *testing.T) *stack {
	t.Helper()
	needDocker(t)
	ensureImages(t)
	sharedOnce.Do(func() {
		began := time.Now()
		shared, sharedErr = startStack()
		if sharedErr == nil {
			fmt.Printf("system: stack of %d containers healthy in %v\n", len(shared.boxes), time.Since(began).Round(time.Second))
		}
	})
	if sharedErr != nil {
		t.Fatalf("start the stack: %v", sharedErr)
	}
	shared.requireHealthy(t)
	return shared
}

func startStack() (s *stack, err error) {
	s = &stack{prefix: fmt.Sprintf("syst%d-", time.Now().UnixNano()%1e6), boxes: map[string]*box{}}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.net, err = pool.CreateNetwork(s.prefix + "net"); err != nil {
		return s, err
	}
	if err = s.makeSecrets(); err != nil {
		return s, err
	}
	for _, step := range []func() error{s.startNATS, s.runInit, s.startServices, s.connectAdmin, s.waitReady, s.registerUpstreams} {
		if err = step(); err != nil {
			return s, err
		}
	}
	return s, nil
}

func (s *stack) makeSecrets() error {
	dir, err := os.MkdirTemp("", "switchyard-system-")
	if err != nil {
		return err
	}
	s.secrets = dir
	cmd := exec.Command(filepath.Join(repoRoot, "deploy", "gen-secrets.sh"))
	cmd.Env = append(os.Environ(), "SWITCHYARD_SECRETS_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gen-secrets.sh: %v\n%s", err, out)
	}
	return nil
}

// envFile reads one of gen-secrets.sh's KEY=VALUE files.
func (s *stack) envFile(name string) []string {
	f, err := os.Open(filepath.Join(s.secrets, name+".env"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

func (s *stack) run(sp spec) error {
	b, err := s.create(sp)
	if err != nil {
		return err
	}
	s.boxes[sp.alias] = b
	return b.start()
}

func (s *stack) startNATS() error {
	abs, _ := filepath.Abs(filepath.Join(repoRoot, "deploy", "nats"))
	for _, n := range natsNodes {
		err := s.run(spec{alias: n, image: imageRef("nats"), env: s.envFile("nats"),
			cmd:   []string{"--config", "/etc/nats/" + n + ".conf"},
			binds: []string{abs + ":/etc/nats:ro", filepath.Join(s.secrets, "tls") + ":/etc/nats-tls:ro"},
			ports: []string{"4222/tcp", "8222/tcp"}})
		if err != nil {
			return err
		}
	}
	for _, n := range natsNodes {
		if err := waitHTTP("http://"+s.boxes[n].hostAddr("8222/tcp")+"/healthz", time.Minute); err != nil {
			return fmt.Errorf("%s: %w\n%s", n, err, s.boxes[n].logs(20))
		}
	}
	return nil
}

// serviceEnv is what compose.yaml's x-service-env gives every service.
func (s *stack) serviceEnv(user string, extra ...string) []string {
	env := append(s.envFile(user),
		"SY_NATS_URL=tls://nats-1:4222,tls://nats-2:4222,tls://nats-3:4222",
		"SY_JETSTREAM_REPLICAS=3", "SY_NATS_ENSURE_TOPOLOGY=false", "SY_LOG_FORMAT=json",
		"SSL_CERT_DIR=/etc/switchyard/nats-ca", "SY_OUTBOUND_ALLOW=private")
	return append(env, extra...)
}

func (s *stack) caBind() []string {
	return []string{filepath.Join(s.secrets, "tls", "ca.pem") + ":/etc/switchyard/nats-ca/ca.pem:ro"}
}

// runInit is compose's nats-init: the topology, as the admin user.
func (s *stack) runInit() error {
	err := s.run(spec{alias: "nats-init", image: imageRef("switchyard"), cmd: []string{"-target=init"},
		env: s.serviceEnv("admin", "SY_NATS_ENSURE_TOPOLOGY=true", "SY_OPS_LISTEN="), binds: s.caBind()})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code, err := pool.Client.WaitContainerWithContext(s.boxes["nats-init"].id, ctx)
	if err != nil || code != 0 {
		return fmt.Errorf("nats-init exited %d (%v)\n%s", code, err, s.boxes["nats-init"].logs(20))
	}
	return nil
}

func (s *stack) startServices() error {
	specs := []spec{
		{alias: "redis", image: imageRef("redis")},
		{alias: "upstream", image: imageRef("fakeupstream"),
			cmd: []string{"-protocol", "openai", "-listen", ":9000", "-key", "sk-fake", "-model", "gpt-4o-mini"}},
		// Streams of 80 chunks 100 ms apart: 8 s, long enough to kill a
		// router under them.
		{alias: "slowupstream", image: imageRef("fakeupstream"),
			cmd: []string{"-protocol", "openai", "-listen", ":9000", "-key", "sk-fake", "-model", "slow-model",
				"-chunks", "80", "-chunk-delay", "100ms"}},
	}
	for _, svc := range []string{"registry", "credential", "healthcheck", "metering"} {
		specs = append(specs, spec{alias: svc, image: imageRef(svc), env: s.serviceEnv(svc),
			binds: s.caBind(), ports: []string{opsPorts[svc]}})
	}
	for _, r := range []string{"router-1", "router-2"} {
		specs = append(specs, spec{alias: r, image: imageRef("router"), binds: s.caBind(),
			env: s.serviceEnv("router", "SY_REDIS_URL=redis://redis:6379", "SY_RATELIMIT_REPLICAS=2",
				"SY_USAGE_SPOOL_DIR=/data/spool"),
			ports: []string{"8080/tcp", "9104/tcp"}})
	}
	for _, sp := range specs {
		if err := s.run(sp); err != nil {
			return err
		}
	}
	return nil
}

// connectAdmin connects as the admin user from the host, through every
// node's published port.
func (s *stack) connectAdmin() error {
	var urls []string
	for _, n := range natsNodes {
		urls = append(urls, "tls://"+s.boxes[n].hostAddr("4222/tcp"))
	}
	var user, pw string
	for _, kv := range s.envFile("admin") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "SY_NATS_USER":
			user = v
		case "SY_NATS_PASSWORD":
			pw = v
		}
	}
	nc, err := nats.Connect(strings.Join(urls, ","), nats.Name("system-test"), nats.UserInfo(user, pw),
		nats.RootCAs(filepath.Join(s.secrets, "tls", "ca.pem")), nats.IgnoreDiscoveredServers(),
		nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond), nats.RetryOnFailedConnect(true))
	if err != nil {
		return fmt.Errorf("admin connect: %w", err)
	}
	s.admin = nc
	s.js, err = jetstream.New(nc)
	return err
}

// waitReady waits for every service's /readyz.
func (s *stack) waitReady() error {
	for svc, port := range opsPorts {
		if err := waitHTTP("http://"+s.boxes[svc].hostAddr(port)+"/readyz", 2*time.Minute); err != nil {
			return fmt.Errorf("%s not ready: %w\n%s", svc, err, s.boxes[svc].logs(20))
		}
	}
	return nil
}

// requireHealthy fails the test if an earlier one left the stack hurt.
func (s *stack) requireHealthy(t *testing.T) {
	t.Helper()
	if err := s.waitReady(); err != nil {
		t.Fatalf("stack not healthy at the start of the test: %v", err)
	}
}

func waitHTTP(url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		last = err
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("%s: not 200 within %v: %w", url, within, errors.Join(last))
}

func (s *stack) close() {
	if s.admin != nil {
		s.admin.Close()
	}
	for _, b := range s.boxes {
		_ = pool.Client.RemoveContainer(dcRemove(b.id))
	}
	if s.net != nil {
		_ = s.net.Close()
	}
	if s.secrets != "" {
		_ = os.RemoveAll(s.secrets)
	}
}
