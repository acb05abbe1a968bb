// Package dataexport is the analytics data export: it takes a consistent
// snapshot of the directory and every zone database, and writes each table
// as Parquet per audience, keeping only the columns the audience's grant
// allows by the tags declared beside the migrations (store.Policy),
// pseudonymising some with the audience's key, into Hive-style partitions
// (audience=/db=/table=/dt=/) of the audience's own store, with a manifest
// per run written last. Rows stream from the database to the file one row
// group at a time, so memory does not grow with the table.
package dataexport
