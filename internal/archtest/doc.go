// Package archtest holds tests of camcloud's package structure: the package
// map of docs/architecture.md is true to the imports, the HTTP
// siblings (api, live, playback, web) sit on httpapi and import none of
// each other, the api role links no RTSP or RTMP library, and no handler
// file calls a repository. It has no code of its own.
package archtest
