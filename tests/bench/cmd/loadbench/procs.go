package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/pkg/natsrpc"
)

// proc is one server process the harness started and measures.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// startProc runs bin with args, its output going to <workDir>/<name>.log.
func startProc(workDir, name, bin string, args ...string) (*proc, error) {
	return startProcEnv(workDir, name, bin, nil, args...)
}

// startProcEnv is startProc with extra environment variables.
func startProcEnv(workDir, name, bin string, env []string, args ...string) (*proc, error) {
	logFile, err := os.Create(filepath.Join(workDir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &proc{name: name, cmd: cmd, log: logFile}, nil
}

// stop ends the process with SIGTERM, then SIGKILL after a grace period.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	p.log.Close()
}

// waitListening polls until addr accepts TCP connections.
func waitListening(ctx context.Context, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s never listened: %w", addr, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// upstream is one fake provider and how Switchyard registers it.
type upstream struct {
	name, model, protocol, fakeProtocol string
	port, chunks                        int
}

// register registers u with Switchyard over NATS (retrying while the
// services start) and waits until the edge routes its model.
func register(ctx context.Context, nc *nats.Conn, edgeURL, key, consumerKey string, u upstream) error {
	req := &pb.RegisterServiceRequest{
		Service: &pb.Service{Name: u.name, Model: u.model, BaseUrl: fmt.Sprintf("http://127.0.0.1:%d", u.port),
			Protocol: u.protocol, Functions: []string{"chat"}},
		Credential: &pb.CredentialSource{Source: &pb.CredentialSource_Value{Value: key}},
	}
	var lastErr error
	for ctx.Err() == nil {
		callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		lastErr = natsrpc.Call(callCtx, nc, contract.SubjServicesRegister, req, &pb.RegisterServiceResponse{})
		cancel()
		if lastErr == nil {
			return waitRouted(ctx, edgeURL, consumerKey, u.model)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("register %s: %w", u.name, errors.Join(lastErr, ctx.Err()))
}

// createConsumerKey creates the load generator's consumer key. limited
// gives it RPM/TPM limits far above what the benchmark sends, so the
// limiter is exercised on every request but never refuses one.
func createConsumerKey(ctx context.Context, nc *nats.Conn, limited bool) (string, error) {
	req := &pb.CreateKeyRequest{Owner: "loadbench"}
	if limited {
		req.Limits = &pb.Limits{Rpm: 100_000_000, Tpm: 100_000_000_000}
	}
	var rep pb.CreateKeyResponse
	var err error
	for ctx.Err() == nil {
		callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = natsrpc.Call(callCtx, nc, contract.SubjKeysCreate, req, &rep)
		cancel()
		if err == nil {
			return rep.GetKey(), nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return "", fmt.Errorf("create consumer key: %w", errors.Join(err, ctx.Err()))
}

// waitRouted polls GET /v1/models/{model} at the edge, with the consumer
// key, until it answers 200 (the route and the key are both live).
func waitRouted(ctx context.Context, edgeURL, consumerKey, model string) error {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, edgeURL+"/v1/models/"+model, nil)
		req.Header.Set("Authorization", "Bearer "+consumerKey)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("model %s never routed at the edge", model)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
