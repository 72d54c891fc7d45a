// Package natsrpc serves go-kit endpoints over nats.go/micro and calls them.
//
// go-kit's own NATS transport drops message headers, which would cut the
// OpenTelemetry trace at every hop; this adapter keeps request and reply
// headers, extracts and injects W3C trace context through them, and turns
// errors into micro error headers (Nats-Service-Error-Code carries an
// apierr.Code, Nats-Service-Error the message), so `nats req` and
// `$SRV.PING/INFO/STATS` work against every Switchyard service.
//
// Payloads are protojson: admin and internal RPC are low volume and JSON
// makes the real nats CLI a usable client.
package natsrpc
