#!/bin/sh
# make-samples.sh regenerates the media samples shipped in testdata/ from
# ffmpeg's synthetic sources (testsrc2 pattern with a burnt-in timestamp and a
# sine tone), so that no third-party footage is needed. Run it from anywhere:
#   sh testdata/make-samples.sh
set -eu

dir=$(cd "$(dirname "$0")" && pwd)
font=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf
if [ -f "$font" ]; then
	fontopt="fontfile=$font:"
else
	fontopt=""
fi
# The burnt-in text shows the media time (seconds.millis) and the frame number.
text="drawtext=${fontopt}text='%{pts\\:hms} frame %{n}':fontcolor=white:box=1:boxcolor=black@0.6"

# H.264 main profile + AAC-LC mono, 10 s, 2 s GOP, no B-frames, ~2 Mbit/s.
ffmpeg -hide_banner -loglevel error -y \
	-f lavfi -i "testsrc2=size=1280x720:rate=25:duration=10" \
	-f lavfi -i "sine=frequency=440:sample_rate=48000:duration=10" \
	-vf "$text:fontsize=48:x=40:y=40" \
	-c:v libx264 -profile:v main -pix_fmt yuv420p -preset veryfast \
	-bf 0 -g 50 -keyint_min 50 -sc_threshold 0 \
	-b:v 2M -maxrate 2M -bufsize 1M \
	-x264-params "scenecut=0:open-gop=0" \
	-c:a aac -profile:a aac_low -ar 48000 -ac 1 -b:a 64k \
	-f mpegts "$dir/sample-h264.ts"

# H.265, 6 s, 640x360, 2 s GOP, no B-frames, video only.
ffmpeg -hide_banner -loglevel error -y \
	-f lavfi -i "testsrc2=size=640x360:rate=25:duration=6" \
	-vf "$text:fontsize=24:x=20:y=20" \
	-c:v libx265 -pix_fmt yuv420p -preset fast \
	-x265-params "log-level=error:bframes=0:keyint=50:min-keyint=50:scenecut=0:open-gop=0" \
	-b:v 500k \
	-an -f mpegts "$dir/sample-h265.ts"

ls -l "$dir"/sample-h264.ts "$dir"/sample-h265.ts
