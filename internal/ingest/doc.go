// Package ingest receives camera streams and hands them to the stream hub:
// an RTSP server (ANNOUNCE/RECORD over TCP or UDP), an RTMP server (publish)
// and RTSP pull clients for cameras the server connects to itself. Every
// publish is authorised before any media is accepted, and every connection is
// bounded so that a dead or hostile peer never affects the other cameras.
// The format of ingest URLs lives in package ingesturl.
package ingest
