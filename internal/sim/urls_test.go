package sim

import (
	"slices"
	"testing"
)

func TestIngestURLs(t *testing.T) {
	u := "rtsp://api-host:8554/cam/c1/s1"
	cases := []struct {
		over []string
		k    int
		want []string
	}{
		{nil, 3, []string{u}},
		{[]string{"a:1", "b:2"}, 0, []string{"rtsp://a:1/cam/c1/s1", "rtsp://b:2/cam/c1/s1"}},
		{[]string{"a:1", "b:2"}, 1, []string{"rtsp://b:2/cam/c1/s1", "rtsp://a:1/cam/c1/s1"}},
		{[]string{"rtsp://c:3"}, 0, []string{"rtsp://c:3/cam/c1/s1"}},
	}
	for _, c := range cases {
		got, err := ingestURLs(u, c.over, c.k)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ingestURLs(%v, %d) = %v, %v; want %v", c.over, c.k, got, err, c.want)
		}
	}
	if _, err := ingestURLs("", nil, 0); err == nil {
		t.Error("empty URL accepted")
	}
}
