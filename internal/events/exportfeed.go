package events

// TypeExportReady is recorded by the export jobs (package exports) on the
// exported camera when an export's package is ready to download: its
// detail names the export, its range, size and creator. Whoever may view
// the camera sees it in the event listings and stream, and webhooks may
// subscribe to it.
const TypeExportReady = "export.ready"
