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

# H.264 "moving scene", 30 s, 512x288, 15 fps, 2 s GOP, no B-frames, CRF 28
# (a camera's variable bitrate), light camera noise, AAC-LC 16 kHz mono:
# a still test pattern that a small textured box crosses from left to right
# during [12 s, 17 s], once per loop, so that simulated cameras looping it
# produce a motion event every 30 s (camcloud sim --scene moving, --demo).
still() { echo "$1=size=$2:rate=15,trim=end_frame=1,loop=loop=-1:size=1:start=0,setpts=N/15/TB"; }
ffmpeg -hide_banner -loglevel error -y \
	-f lavfi -i "$(still testsrc2 512x288)" \
	-f lavfi -i "$(still testsrc 48x72)" \
	-f lavfi -i "sine=frequency=440:sample_rate=16000:duration=30" \
	-filter_complex "[0][1]overlay=x='-48+(512+48)*(t-12)/5':y=120:enable='between(t,12,17)':eval=frame:shortest=1,noise=alls=2:allf=t[v]" \
	-map "[v]" -map 2:a -t 30 \
	-c:v libx264 -profile:v main -pix_fmt yuv420p -preset veryfast -tune zerolatency \
	-bf 0 -g 30 -keyint_min 30 -sc_threshold 0 -x264-params "scenecut=0:open-gop=0" -crf 28 \
	-c:a aac -profile:a aac_low -ar 16000 -ac 1 -b:a 16k \
	-f mpegts "$dir/sample-moving-h264.ts"

ls -l "$dir"/sample-h264.ts "$dir"/sample-h265.ts "$dir"/sample-moving-h264.ts
