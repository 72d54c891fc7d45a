// Package deployk8s checks deploy/k8s without a cluster: every manifest
// decodes strictly into the Kubernetes API types (k8s.io/api; an unknown or
// misspelt field fails), every kustomization names files that exist, and
// every reference a workload makes — env vars and volumes from Secrets and
// ConfigMaps, Service ports and selectors, the HPA's and PDBs' targets,
// NetworkPolicy selectors and ports — resolves within its overlay.
package deployk8s

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const k8sDir = "../../deploy/k8s"

// kinds maps apiVersion/kind to a new typed object to decode into.
var kinds = map[string]func() any{
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                              func() any { return &corev1.Secret{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"v1/Namespace":                           func() any { return &corev1.Namespace{} },
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                    func() any { return &appsv1.StatefulSet{} },
	"batch/v1/Job":                           func() any { return &batchv1.Job{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"networking.k8s.io/v1/NetworkPolicy":     func() any { return &networkingv1.NetworkPolicy{} },
}

// kustomization is the subset of kustomize's file this repo uses, decoded
// strictly too: a field outside it is a mistake or needs this test taught.
type kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Labels     []struct {
		Pairs map[string]string `json:"pairs"`
	} `json:"labels,omitempty"`
	Resources          []string    `json:"resources,omitempty"`
	Patches            []patchRef  `json:"patches,omitempty"`
	ConfigMapGenerator []generator `json:"configMapGenerator,omitempty"`
	SecretGenerator    []generator `json:"secretGenerator,omitempty"`
	Images             []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
	} `json:"images,omitempty"`
}

type patchRef struct {
	Path string `json:"path"`
}

type generator struct {
	Name  string   `json:"name"`
	Files []string `json:"files,omitempty"`
}

// object is one decoded manifest.
type object struct {
	kind, name, file string
	value            any
}

// bundle is what an overlay renders: objects, generated data objects with
// their keys, and patches.
type bundle struct {
	objects []object
	keys    map[string]map[string]bool // "Secret/name" or "ConfigMap/name" -> keys
	patches []object
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// decodeFile strictly decodes every document of a manifest file.
func decodeFile(t *testing.T, path string) []object {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var out []object
	for _, doc := range docSeparator.Split(string(data), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var tm struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			t.Errorf("%s: %s %s is not a kind this test knows", path, tm.APIVersion, tm.Kind)
			continue
		}
		obj := newObj()
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Errorf("%s: %s %q does not decode strictly: %v", path, tm.Kind, tm.Metadata.Name, err)
			continue
		}
		if tm.Metadata.Name == "" {
			t.Errorf("%s: a %s without a name", path, tm.Kind)
		}
		out = append(out, object{kind: tm.Kind, name: tm.Metadata.Name, file: path, value: obj})
	}
	return out
}

func stripComments(doc string) string {
	var b bytes.Buffer
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func readKustomization(t *testing.T, dir string) kustomization {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		t.Fatalf("%s/kustomization.yaml does not decode strictly: %v", dir, err)
	}
	if k.Kind != "Kustomization" {
		t.Errorf("%s/kustomization.yaml: kind %q", dir, k.Kind)
	}
	return k
}

// render loads a kustomization and everything it includes.
func render(t *testing.T, dir string) *bundle {
	t.Helper()
	b := &bundle{keys: map[string]map[string]bool{}}
	k := readKustomization(t, dir)
	for _, res := range k.Resources {
		path := filepath.Join(dir, res)
		info, err := os.Stat(path)
		switch {
		case err != nil:
			t.Errorf("%s: resource %s does not exist", dir, res)
		case info.IsDir():
			sub := render(t, path)
			b.objects = append(b.objects, sub.objects...)
			b.patches = append(b.patches, sub.patches...)
			for name, keys := range sub.keys {
				b.keys[name] = keys
			}
		default:
			b.objects = append(b.objects, decodeFile(t, path)...)
		}
	}
	for _, p := range k.Patches {
		path := filepath.Join(dir, p.Path)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: patch %s does not exist", dir, p.Path)
			continue
		}
		b.patches = append(b.patches, decodeFile(t, path)...)
	}
	b.addGenerated(t, dir, "ConfigMap", k.ConfigMapGenerator, true)
	// Secret files are made by a script (deploy/k8s/dev-secrets.sh), never committed.
	b.addGenerated(t, dir, "Secret", k.SecretGenerator, false)
	for _, o := range b.objects {
		b.addDataKeys(o)
	}
	return b
}

func (b *bundle) addGenerated(t *testing.T, dir, kind string, gens []generator, mustExist bool) {
	t.Helper()
	for _, g := range gens {
		keys := map[string]bool{}
		for _, f := range g.Files {
			key, path, found := strings.Cut(f, "=")
			if !found {
				key, path = filepath.Base(f), f
			}
			keys[key] = true
			if strings.HasPrefix(filepath.Clean(path), "..") {
				t.Errorf("%s: %s %s reads %s, outside the kustomization (kustomize refuses it)", dir, kind, g.Name, path)
			}
			if _, err := os.Stat(filepath.Join(dir, path)); mustExist && err != nil {
				t.Errorf("%s: %s %s: file %s does not exist", dir, kind, g.Name, path)
			}
		}
		b.keys[kind+"/"+g.Name] = keys
		b.objects = append(b.objects, object{kind: kind, name: g.Name, file: filepath.Join(dir, "kustomization.yaml")})
	}
}

func (b *bundle) addDataKeys(o object) {
	keys := map[string]bool{}
	switch v := o.value.(type) {
	case *corev1.ConfigMap:
		for k := range v.Data {
			keys[k] = true
		}
	case *corev1.Secret:
		for k := range v.StringData {
			keys[k] = true
		}
		for k := range v.Data {
			keys[k] = true
		}
	default:
		return
	}
	b.keys[o.kind+"/"+o.name] = keys
}

func (b *bundle) find(kind, name string) (object, bool) {
	for _, o := range b.objects {
		if o.kind == kind && o.name == name {
			return o, true
		}
	}
	return object{}, false
}

// overlays lists deploy/k8s/overlays/*.
func overlays(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(k8sDir, "overlays", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no overlays under %s/overlays: %v", k8sDir, err)
	}
	return dirs
}

func describe(o object) string {
	return fmt.Sprintf("%s %s (%s)", o.kind, o.name, filepath.Base(o.file))
}
