package deployk8s

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestEveryManifestDecodesStrictly walks deploy/k8s: kustomizations into
// their struct, everything else into the Kubernetes API types.
func TestEveryManifestDecodesStrictly(t *testing.T) {
	n := 0
	err := filepath.WalkDir(k8sDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		if filepath.Base(path) == "kustomization.yaml" {
			readKustomization(t, filepath.Dir(path))
		} else {
			n += len(decodeFile(t, path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("decoded only %d objects under %s", n, k8sDir)
	}
}

// workload is a pod template and what owns it.
type workload struct {
	owner  object
	labels map[string]string
	spec   corev1.PodSpec
	claims []string // StatefulSet volumeClaimTemplates
}

func (b *bundle) workloads() []workload {
	var out []workload
	for _, o := range b.objects {
		switch v := o.value.(type) {
		case *appsv1.Deployment:
			out = append(out, workload{owner: o, labels: v.Spec.Template.Labels, spec: v.Spec.Template.Spec})
		case *appsv1.StatefulSet:
			w := workload{owner: o, labels: v.Spec.Template.Labels, spec: v.Spec.Template.Spec}
			for _, c := range v.Spec.VolumeClaimTemplates {
				w.claims = append(w.claims, c.Name)
			}
			out = append(out, w)
		case *batchv1.Job:
			out = append(out, workload{owner: o, labels: v.Spec.Template.Labels, spec: v.Spec.Template.Spec})
		}
	}
	return out
}

func TestOverlaysResolveEveryReference(t *testing.T) {
	for _, dir := range overlays(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			b := render(t, dir)
			ws := b.workloads()
			if len(ws) < 8 { // nats, redis, init, five services
				t.Fatalf("only %d workloads", len(ws))
			}
			for _, w := range ws {
				b.checkPodRefs(t, w)
			}
			b.checkServices(t, ws)
			b.checkPolicies(t, ws)
			b.checkPatches(t)
		})
	}
}

// checkPodRefs: env, envFrom, volumes and mounts, probe ports.
func (b *bundle) checkPodRefs(t *testing.T, w workload) {
	t.Helper()
	where := describe(w.owner)
	volumes := slices.Clone(w.claims)
	for _, v := range w.spec.Volumes {
		volumes = append(volumes, v.Name)
		switch {
		case v.Secret != nil:
			b.needKeys(t, where, "Secret", v.Secret.SecretName, itemKeys(v.Secret.Items), v.Secret.Optional)
		case v.ConfigMap != nil:
			b.needKeys(t, where, "ConfigMap", v.ConfigMap.Name, itemKeys(v.ConfigMap.Items), v.ConfigMap.Optional)
		}
	}
	for _, c := range slices.Concat(w.spec.InitContainers, w.spec.Containers) {
		for _, ef := range c.EnvFrom {
			if ef.SecretRef != nil {
				b.needKeys(t, where, "Secret", ef.SecretRef.Name, nil, ef.SecretRef.Optional)
			}
			if ef.ConfigMapRef != nil {
				b.needKeys(t, where, "ConfigMap", ef.ConfigMapRef.Name, nil, ef.ConfigMapRef.Optional)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				b.needKeys(t, where+" env "+e.Name, "Secret", r.Name, []string{r.Key}, r.Optional)
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				b.needKeys(t, where+" env "+e.Name, "ConfigMap", r.Name, []string{r.Key}, r.Optional)
			}
		}
		for _, m := range c.VolumeMounts {
			if !slices.Contains(volumes, m.Name) {
				t.Errorf("%s: container %s mounts undeclared volume %s", where, c.Name, m.Name)
			}
		}
		for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe, c.StartupProbe} {
			if p != nil && p.HTTPGet != nil && !hasPort(c, p.HTTPGet.Port) {
				t.Errorf("%s: probe on port %s, which container %s does not declare", where, p.HTTPGet.Port.String(), c.Name)
			}
		}
	}
}

func itemKeys(items []corev1.KeyToPath) []string {
	var keys []string
	for _, it := range items {
		keys = append(keys, it.Key)
	}
	return keys
}

// needKeys checks that kind/name exists in the overlay with every key.
func (b *bundle) needKeys(t *testing.T, where, kind, name string, keys []string, optional *bool) {
	t.Helper()
	if optional != nil && *optional {
		return
	}
	have, ok := b.keys[kind+"/"+name]
	if !ok {
		t.Errorf("%s: names %s %s, which the overlay does not define", where, kind, name)
		return
	}
	for _, k := range keys {
		if !have[k] {
			t.Errorf("%s: %s %s has no key %q", where, kind, name, k)
		}
	}
}

func hasPort(c corev1.Container, port intstr.IntOrString) bool {
	return slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool {
		if port.Type == intstr.String {
			return p.Name == port.StrVal
		}
		return p.ContainerPort == port.IntVal
	})
}

func selects(sel map[string]string, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// matching returns the workloads a label selector picks.
func matching(ws []workload, sel *metav1.LabelSelector) []workload {
	var out []workload
	for _, w := range ws {
		if sel != nil && labelSelectorMatches(sel, w.labels) {
			out = append(out, w)
		}
	}
	return out
}

func labelSelectorMatches(sel *metav1.LabelSelector, labels map[string]string) bool {
	if len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
		return true // {} selects every pod
	}
	for k, v := range sel.MatchLabels {
		if labels[k] != v {
			return false
		}
	}
	for _, e := range sel.MatchExpressions {
		in := slices.Contains(e.Values, labels[e.Key])
		if (e.Operator == metav1.LabelSelectorOpIn && !in) || (e.Operator == metav1.LabelSelectorOpNotIn && in) {
			return false
		}
	}
	return true
}

// checkServices: each Service selects a workload whose containers
// declare every target port; StatefulSets name a headless Service.
func (b *bundle) checkServices(t *testing.T, ws []workload) {
	t.Helper()
	for _, o := range b.objects {
		svc, ok := o.value.(*corev1.Service)
		if !ok {
			continue
		}
		var picked []workload
		for _, w := range ws {
			if selects(svc.Spec.Selector, w.labels) {
				picked = append(picked, w)
			}
		}
		if len(picked) == 0 {
			t.Errorf("%s: selector %v picks no workload", describe(o), svc.Spec.Selector)
			continue
		}
		for _, p := range svc.Spec.Ports {
			if !slices.ContainsFunc(picked[0].spec.Containers, func(c corev1.Container) bool { return hasPort(c, p.TargetPort) }) {
				t.Errorf("%s: port %s targets %s, which %s does not declare", describe(o), p.Name, p.TargetPort.String(), describe(picked[0].owner))
			}
		}
	}
	for _, w := range ws {
		if ss, ok := w.owner.value.(*appsv1.StatefulSet); ok {
			svc, found := b.find("Service", ss.Spec.ServiceName)
			if !found || svc.value.(*corev1.Service).Spec.ClusterIP != corev1.ClusterIPNone {
				t.Errorf("%s: serviceName %s is not a headless Service here", describe(w.owner), ss.Spec.ServiceName)
			}
		}
	}
}

// checkPolicies: HPA and PDB targets, NetworkPolicy selectors and ports.
func (b *bundle) checkPolicies(t *testing.T, ws []workload) {
	t.Helper()
	for _, o := range b.objects {
		switch v := o.value.(type) {
		case *autoscalingv2.HorizontalPodAutoscaler:
			if _, ok := b.find(v.Spec.ScaleTargetRef.Kind, v.Spec.ScaleTargetRef.Name); !ok {
				t.Errorf("%s: scales %s %s, which does not exist", describe(o), v.Spec.ScaleTargetRef.Kind, v.Spec.ScaleTargetRef.Name)
			}
		case *policyv1.PodDisruptionBudget:
			if len(matching(ws, v.Spec.Selector)) == 0 {
				t.Errorf("%s: selects no workload", describe(o))
			}
		case *networkingv1.NetworkPolicy:
			picked := matching(ws, &v.Spec.PodSelector)
			if len(picked) == 0 {
				t.Errorf("%s: selects no workload", describe(o))
			}
			for _, rule := range v.Spec.Ingress {
				for _, p := range rule.Ports {
					if p.Port != nil && !slices.ContainsFunc(picked, func(w workload) bool {
						return slices.ContainsFunc(w.spec.Containers, func(c corev1.Container) bool { return hasPort(c, *p.Port) })
					}) {
						t.Errorf("%s: ingress port %s is not declared by the pods it selects", describe(o), p.Port.String())
					}
				}
			}
		}
	}
}

// checkPatches: every patch targets an object of the base.
func (b *bundle) checkPatches(t *testing.T) {
	t.Helper()
	for _, p := range b.patches {
		if _, ok := b.find(p.kind, p.name); !ok {
			t.Errorf("patch %s targets nothing", describe(p))
		}
		if d, ok := p.value.(*appsv1.Deployment); ok && d.Name == "router" {
			checkDrain(t, "patch "+describe(p), d)
		}
	}
}

// TestRouterDrainsLongerThanAStream: readiness from /readyz, preStop
// longer than -total-timeout (a stream's budget), and a grace period
// covering preStop.
func TestRouterDrainsLongerThanAStream(t *testing.T) {
	b := render(t, filepath.Join(k8sDir, "base"))
	o, ok := b.find("Deployment", "router")
	if !ok {
		t.Fatal("no router Deployment")
	}
	d := o.value.(*appsv1.Deployment)
	c := d.Spec.Template.Spec.Containers[0]
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Error("router readiness is not /readyz")
	}
	checkDrain(t, "base router", d)
	for _, kind := range []string{"HorizontalPodAutoscaler", "PodDisruptionBudget"} {
		if _, ok := b.find(kind, "router"); !ok {
			t.Errorf("no %s for the router", kind)
		}
	}
}

func checkDrain(t *testing.T, where string, d *appsv1.Deployment) {
	t.Helper()
	c := d.Spec.Template.Spec.Containers[0]
	var budget time.Duration
	for _, e := range c.Env {
		if e.Name == "SY_TOTAL_TIMEOUT" {
			budget, _ = time.ParseDuration(e.Value)
		}
	}
	if budget == 0 || c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil ||
		d.Spec.Template.Spec.TerminationGracePeriodSeconds == nil {
		t.Fatalf("%s: needs SY_TOTAL_TIMEOUT, a preStop sleep and terminationGracePeriodSeconds", where)
	}
	preStop := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	grace := time.Duration(*d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	if preStop <= budget || grace <= preStop {
		t.Errorf("%s: stream budget %v, preStop %v, grace %v: want budget < preStop < grace", where, budget, preStop, grace)
	}
}

// TestSplitDeploymentSecurity: services bind-only, the init as admin, the
// same auth.conf as compose, fsync always, and pods that cannot escalate.
func TestSplitDeploymentSecurity(t *testing.T) {
	b := render(t, filepath.Join(k8sDir, "base"))
	common, _ := b.find("ConfigMap", "switchyard-common")
	if cm, ok := common.value.(*corev1.ConfigMap); !ok || cm.Data["SY_NATS_ENSURE_TOPOLOGY"] != "false" || cm.Data["SY_JETSTREAM_REPLICAS"] != "3" {
		t.Error("switchyard-common must set SY_NATS_ENSURE_TOPOLOGY=false and SY_JETSTREAM_REPLICAS=3")
	}
	job, _ := b.find("Job", "switchyard-topology-init")
	if j, ok := job.value.(*batchv1.Job); !ok || !slices.Contains(j.Spec.Template.Spec.Containers[0].Args, "-target=init") ||
		envValue(j.Spec.Template.Spec.Containers[0], "SY_NATS_USER") != "admin" {
		t.Error("the init Job must run switchyard -target=init as the admin user")
	}
	for _, w := range b.workloads() {
		sc := w.spec.SecurityContext
		if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("%s: not runAsNonRoot", describe(w.owner))
		}
		for _, c := range w.spec.Containers {
			if c.SecurityContext == nil || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
				t.Errorf("%s: container %s may escalate privileges", describe(w.owner), c.Name)
			}
		}
	}
	compose, err := os.ReadFile("../../deploy/nats/auth.conf")
	if err != nil {
		t.Fatal(err)
	}
	copied, err := os.ReadFile(filepath.Join(k8sDir, "base", "nats", "auth.conf"))
	if err != nil || !bytes.Equal(compose, copied) {
		t.Error("deploy/k8s/base/nats/auth.conf differs from deploy/nats/auth.conf: run deploy/nats/gen-auth.sh")
	}
	conf, _ := os.ReadFile(filepath.Join(k8sDir, "base", "nats", "nats.conf"))
	if !bytes.Contains(conf, []byte("sync_interval: always")) {
		t.Error("the k8s NATS config must fsync every write (sync_interval: always)")
	}
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}
