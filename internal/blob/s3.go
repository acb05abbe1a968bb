package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// pingTimeout bounds Ping, so readiness answers quickly when the store hangs.
const pingTimeout = 5 * time.Second

// maxPresign is S3's longest presigned URL lifetime.
const maxPresign = 7 * 24 * time.Hour

// S3 keeps objects in a bucket of any S3-compatible server (AWS, MinIO,
// versitygw, Ceph, ...), every key under the configured prefix.
type S3 struct {
	client *minio.Client
	core   minio.Core
	bucket string
	prefix string
	region string
	where  string // endpoint/bucket/prefix, for errors
}

var _ Store = (*S3)(nil)

// NewS3 makes a client for c. It does not contact the server, so a process
// can start while the store is down; use Ping for readiness and
// EnsureBucket to create the bucket.
func NewS3(ctx context.Context, c S3Config) (*S3, error) {
	_ = ctx // reserved: construction needs no request today
	host, tls, err := c.endpoint()
	if err != nil {
		return nil, err
	}
	if c.Bucket == "" {
		return nil, errors.New("blob: s3 bucket is empty")
	}
	prefix, err := c.keyPrefix()
	if err != nil {
		return nil, err
	}
	lookup := minio.BucketLookupAuto
	if c.PathStyle {
		lookup = minio.BucketLookupPath
	}
	cl, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""),
		Secure:       tls,
		Region:       c.Region,
		BucketLookup: lookup,
		MaxRetries:   3, // callers (the uploader) retry with their own backoff
	})
	if err != nil {
		return nil, fmt.Errorf("blob: s3 client for %s: %w", host, err)
	}
	return &S3{
		client: cl,
		core:   minio.Core{Client: cl},
		bucket: c.Bucket,
		prefix: prefix,
		region: c.Region,
		where:  host + "/" + c.Bucket + "/" + prefix,
	}, nil
}

// Put uploads exactly size bytes from r: one PUT for small objects, a
// multipart upload (handled by the client) for large ones. S3 makes the new
// object visible only once it is complete.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("blob: put %q: negative size %d", key, size)
	}
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, r, size, minio.PutObjectOptions{
		ContentType: contentType(key),
	})
	if err != nil {
		return s.wrap("put", key, err)
	}
	return nil
}

// Get opens the whole object.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.GetRange(ctx, key, 0, -1)
}

// GetRange opens length bytes from offset (length < 0: to the end) with a
// Range request. A range running past the end is cut at the end; one
// starting past it is empty, as with Local.
func (s *S3) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("blob: get %q: negative offset %d", key, offset)
	}
	if length > math.MaxInt64-offset {
		length = -1
	}
	if length == 0 {
		if _, err := s.Stat(ctx, key); err != nil {
			return nil, err
		}
		return emptyObject(), nil
	}
	var opts minio.GetObjectOptions
	var err error
	ranged := true
	switch {
	case length < 0 && offset == 0:
		ranged = false
	case length < 0:
		err = opts.SetRange(offset, 0)
	default:
		err = opts.SetRange(offset, offset+length-1)
	}
	if err != nil {
		return nil, fmt.Errorf("blob: get %q: %w", key, err)
	}
	body, _, hdr, err := s.core.GetObject(ctx, s.bucket, s.prefix+key, opts)
	if err != nil {
		if minio.ToErrorResponse(err).Code == minio.InvalidRange {
			return emptyObject(), nil // object exists, range starts past its end
		}
		return nil, s.wrap("get", key, err)
	}
	if ranged && hdr.Get("Content-Range") == "" {
		return ignoredRange(body, offset, length)
	}
	return body, nil
}

// ignoredRange cuts the range out of a full body, for servers that answer a
// Range request with the whole object.
func ignoredRange(body io.ReadCloser, offset, length int64) (io.ReadCloser, error) {
	if _, err := io.CopyN(io.Discard, body, offset); err != nil && !errors.Is(err, io.EOF) {
		_ = body.Close()
		return nil, err
	}
	if length < 0 {
		return body, nil
	}
	return readCloser{io.LimitReader(body, length), body}, nil
}

// Stat returns the object's size (a HEAD request), or ErrNotFound.
func (s *S3) Stat(ctx context.Context, key string) (int64, error) {
	if err := ValidateKey(key); err != nil {
		return 0, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{})
	if err != nil {
		return 0, s.wrap("stat", key, err)
	}
	return info.Size, nil
}

// Delete removes the objects with batched DeleteObjects requests (up to
// 1000 keys each). Missing keys are not an error; an invalid key fails the
// call before anything is removed.
func (s *S3) Delete(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if err := ValidateKey(k); err != nil {
			return err
		}
	}
	if len(keys) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	objs := make(chan minio.ObjectInfo)
	go func() {
		defer close(objs)
		for _, k := range keys {
			select {
			case objs <- minio.ObjectInfo{Key: s.prefix + k}:
			case <-ctx.Done():
				return
			}
		}
	}()
	const maxErrs = 10
	var errs []error
	failed := 0
	for e := range s.client.RemoveObjects(ctx, s.bucket, objs, minio.RemoveObjectsOptions{}) {
		if e.Err == nil || isNotFound(e.Err) {
			continue
		}
		failed++
		if len(errs) < maxErrs {
			errs = append(errs, s.wrap("delete", strings.TrimPrefix(e.ObjectName, s.prefix), e.Err))
		}
	}
	if failed > maxErrs {
		errs = append(errs, fmt.Errorf("blob: s3 delete: %d more failures", failed-maxErrs))
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// List calls fn with every key under prefix in lexical order (S3's listing
// order). An error from fn stops the listing and is returned.
func (s *S3) List(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{
		Prefix:    s.prefix + prefix,
		Recursive: true,
	}) {
		if obj.Err != nil {
			return fmt.Errorf("blob: s3 list %q in %s: %w", prefix, s.where, obj.Err)
		}
		key := strings.TrimPrefix(obj.Key, s.prefix)
		if key == "" || strings.HasSuffix(key, "/") {
			continue // directory marker, not an object
		}
		if err := fn(key, obj.Size); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Ping checks the bucket answers (a HEAD bucket request), within a few
// seconds at most.
func (s *S3) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("blob: s3 ping %s: %w", s.where, err)
	}
	if !ok {
		return fmt.Errorf("blob: s3 ping %s: bucket %q does not exist", s.where, s.bucket)
	}
	return nil
}

// EnsureBucket creates the bucket when it does not exist yet.
func (s *S3) EnsureBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("blob: s3 bucket %q: %w", s.bucket, err)
	}
	if ok {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: s.region})
	if err != nil {
		switch minio.ToErrorResponse(err).Code {
		case "BucketAlreadyOwnedByYou", "BucketAlreadyExists":
			return nil // made by someone else meanwhile
		}
		return fmt.Errorf("blob: s3 create bucket %q: %w", s.bucket, err)
	}
	return nil
}

// PresignGet returns a URL that lets anyone GET the object until expiry
// (at most 7 days), so players fetch media straight from the store.
func (s *S3) PresignGet(ctx context.Context, key string, expiry time.Duration) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	if expiry < time.Second || expiry > maxPresign {
		return "", fmt.Errorf("blob: presign %q: expiry %v not within 1s..%v", key, expiry, maxPresign)
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, s.prefix+key, expiry, nil)
	if err != nil {
		return "", s.wrap("presign", key, err)
	}
	return u.String(), nil
}

// wrap adds the operation and key to err, turning a missing key into
// ErrNotFound.
func (s *S3) wrap(op, key string, err error) error {
	if isNotFound(err) {
		return fmt.Errorf("blob: s3 %s %q: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("blob: s3 %s %q in %s: %w", op, key, s.where, err)
}

// isNotFound reports a missing object (not a missing bucket, which is a
// configuration error).
func isNotFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == minio.NoSuchKey || (r.StatusCode == 404 && r.Code != minio.NoSuchBucket)
}

// contentType picks the Content-Type that browsers and players need when
// they fetch an object through a presigned URL.
func contentType(key string) string {
	switch path.Ext(key) {
	case ".m4s":
		return "video/iso.segment"
	case ".mp4":
		return "video/mp4"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".m3u8":
		return "application/vnd.apple.mpegurl"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}
