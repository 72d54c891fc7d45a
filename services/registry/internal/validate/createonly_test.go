package validate

import (
	"fmt"
	"testing"
)

func registered() Service {
	return Service{
		Name: "openai-gpt-4o-mini", Model: "gpt-4o-mini", BaseURL: "https://api.openai.com",
		Protocol: "OPENAI_V1", Functions: []string{"chatbot-gen-content"}, Tags: []string{"prod"},
	}
}

const redo = "To change it, deregister the service and register it again."

func TestCreateOnly(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Service)
		field  string
		want   []string
	}{
		{"no change", func(*Service) {}, "", nil},
		{"functions editable", func(s *Service) { s.Functions = []string{"aidb-embed"} }, "", nil},
		{"tags editable", func(s *Service) { s.Tags = nil }, "", nil},
		{"api version editable", func(s *Service) { s.AzureAPIVersion = "2025-04-01-preview" }, "", nil},
		{"trailing slash is no change", func(s *Service) { s.BaseURL = "https://api.openai.com/" }, "", nil},
		{"protocol case is no change", func(s *Service) { s.Protocol = "openai_v1" }, "", nil},
		{"name", func(s *Service) { s.Name = "openai-mini" }, FieldName,
			[]string{"External Service Name is create-only", `registered "openai-gpt-4o-mini", requested "openai-mini"`, redo}},
		{"model", func(s *Service) { s.Model = "gpt-4o" }, FieldModel,
			[]string{"Model name is create-only", `requested "gpt-4o"`, redo}},
		{"base url", func(s *Service) { s.BaseURL = "https://openrouter.ai/api" }, FieldBaseURL,
			[]string{"Model Base URL is create-only", redo}},
		{"protocol", func(s *Service) { s.Protocol = "ANTHROPIC_V1" }, FieldProtocol,
			[]string{"API Protocol Version is create-only", "different authentication header", redo}},
		{"insecure tls", func(s *Service) { s.AllowInsecureTLS = true }, FieldAllowInsecureTLS,
			[]string{"Allow Insecure Connection is create-only", "can't toggle it", `registered "false", requested "true"`, redo}},
		{"azure deployment", func(s *Service) { s.AzureDeployment = "other" }, FieldAzureDeployment,
			[]string{"Azure deployment is create-only", redo}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proposed := registered()
			tt.change(&proposed)
			check(t, CreateOnly(registered(), proposed), tt.field, tt.want)
		})
	}
}

func TestUpdateMask(t *testing.T) {
	tests := []struct {
		paths []string
		field string
		want  []string
	}{
		{nil, "", nil},
		{[]string{"functions", "tags", "credential", "azure_api_version"}, "", nil},
		{[]string{"tags", "model"}, FieldModel, []string{"Model name is create-only", redo}},
		{[]string{"allow_insecure_tls"}, FieldAllowInsecureTLS, []string{"can't toggle it", redo}},
		{[]string{"protocol"}, FieldProtocol, []string{"API Protocol Version is create-only"}},
		{[]string{"name"}, FieldName, []string{"External Service Name is create-only"}},
		{[]string{"base_url"}, FieldBaseURL, []string{"Model Base URL is create-only"}},
		{[]string{"colour"}, FieldUpdateMask, []string{`unknown field "colour"`, "functions, tags, credential"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.paths), func(t *testing.T) {
			check(t, UpdateMask(tt.paths), tt.field, tt.want)
		})
	}
}

func TestRegistration(t *testing.T) {
	valid := Service{
		Name: "azure.gpt-4o.prod", Model: "gpt-4o", BaseURL: "https://Contoso.openai.azure.com/",
		Protocol: "azure_openai", AzureDeployment: "gpt-4o-prod", AzureAPIVersion: "2024-10-21",
		Functions: []string{"chatbot-gen-content"}, Tags: []string{"eu"}, Namespace: "team-a",
	}
	got, err := Registration(valid)
	if err != nil {
		t.Fatal(err)
	}
	if got.BaseURL != "https://contoso.openai.azure.com" || got.Protocol != "AZURE_OPENAI" {
		t.Errorf("not normalized: base %q protocol %q", got.BaseURL, got.Protocol)
	}
	got.Functions[0] = "changed"
	if valid.Functions[0] != "chatbot-gen-content" {
		t.Error("Registration must not share slices with its input")
	}

	tests := []struct {
		name   string
		change func(*Service)
		field  string
	}{
		{"name first", func(s *Service) { s.Name = "Bad"; s.Model = "" }, FieldName},
		{"namespace", func(s *Service) { s.Namespace = "-x" }, FieldNamespace},
		{"model", func(s *Service) { s.Model = "" }, FieldModel},
		{"base url", func(s *Service) { s.BaseURL = "https://contoso.openai.azure.com/v1" }, FieldBaseURL},
		{"protocol", func(s *Service) { s.Protocol = "GRPC" }, FieldProtocol},
		{"azure", func(s *Service) { s.AzureAPIVersion = "" }, FieldAzureAPIVersion},
		{"functions", func(s *Service) { s.Functions = []string{"a b"} }, FieldFunctions},
		{"tags", func(s *Service) { s.Tags = []string{"x", "x"} }, FieldTags},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid
			tt.change(&s)
			_, err := Registration(s)
			check(t, err, tt.field, []string{""})
		})
	}
}
