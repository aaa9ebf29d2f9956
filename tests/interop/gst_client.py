#!/usr/bin/python3
"""A WHIP publisher or WHEP viewer on GStreamer's webrtcbin with its stock
settings (max-bundle: every section after the first offered with port 0 and
a=bundle-only), as a teacher with OBS-like tooling or a GStreamer viewer
would bring it.  GStreamer 1.22 has no WHIP element: the HTTP exchange is
here (RFC 9725, non-trickle: the offer waits for gathering).

  gst_client.py publish URL --codec H264|VP8 --seconds N [--token T]
  gst_client.py view URL --seconds N

Prints one JSON line: the HTTP status, whether ICE connected, and the
buffers that flowed (publish: encoded video frames sent; view: decoded
video frames and audio buffers).  Exit 0 when the exchange was 201.
"""
import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstWebRTC', '1.0')
gi.require_version('GstSdp', '1.0')
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

PUBLISH = {
    # x264's Constrained Baseline is offered as profile-level-id=42c01f
    'H264': 'x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=600 '
            '! video/x-h264,profile=constrained-baseline ! rtph264pay config-interval=-1 '
            'aggregate-mode=zero-latency ! application/x-rtp,media=video,encoding-name=H264,payload=96',
    'VP8': 'vp8enc deadline=1 keyframe-max-dist=30 target-bitrate=600000 ! rtpvp8pay '
           '! application/x-rtp,media=video,encoding-name=VP8,payload=96',
}


class Client:
    def __init__(self, args):
        self.args = args
        self.result = {'status': None, 'connected': False, 'video': 0, 'audio': 0, 'error': None}
        self.loop = GLib.MainLoop()
        self.location = None
        if args.mode == 'publish':
            self.pipe = Gst.parse_launch(
                'webrtcbin name=w bundle-policy=max-bundle '
                'videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 '
                '! identity name=vcount ! ' + PUBLISH[args.codec] + ' ! w. '
                'audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! opusenc '
                '! rtpopuspay ! application/x-rtp,media=audio,encoding-name=OPUS,payload=97,'
                'encoding-params=(string)2 ! w.')
            self.pipe.get_by_name('vcount').connect('handoff', self.count, 'video')
        else:  # a lone element is no bin: build the pipeline by hand
            self.pipe = Gst.Pipeline.new('viewer')
            w = Gst.ElementFactory.make('webrtcbin', 'w')
            w.set_property('bundle-policy', GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
            self.pipe.add(w)
        self.w = self.pipe.get_by_name('w')
        # Only loopback here: tell libnice about it (TOOLCHAIN.md), keeping
        # a reference of our own to the agent (1.22 drops webrtcbin's).
        self.agent = self.w.get_property('ice-agent')
        self.agent.ref()
        self.agent.emit('add-local-ip-address', '127.0.0.1')
        if args.mode == 'view':
            video = {'VP8': 'encoding-name=VP8,payload=96',
                     # Constrained Baseline as Chrome offers it; decoded by
                     # openh264dec (plugins-bad)
                     'H264': 'encoding-name=H264,payload=102,packetization-mode=(string)1,'
                             'profile-level-id=(string)42e01f'}[args.codec]
            for caps in (f'application/x-rtp,media=video,{video},clock-rate=90000',
                         'application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,'
                         'encoding-params=(string)2'):
                self.w.emit('add-transceiver', GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
                            Gst.Caps.from_string(caps))
            self.w.connect('pad-added', self.on_pad)
        self.w.connect('on-negotiation-needed', self.on_negotiation_needed)
        self.w.connect('notify::ice-gathering-state', self.on_gathering)
        self.w.connect('notify::ice-connection-state', self.on_ice)

    def count(self, _elem, _buf, kind):
        self.result[kind] += 1

    def on_pad(self, _w, pad):
        if pad.direction != Gst.PadDirection.SRC:
            return
        kind = 'video' if 'video' in pad.get_current_caps().to_string() else 'audio'
        dec = Gst.ElementFactory.make('decodebin')
        dec.connect('pad-added', self.on_decoded, kind)
        self.pipe.add(dec)
        dec.sync_state_with_parent()
        pad.link(dec.get_static_pad('sink'))

    def on_decoded(self, _dec, pad, kind):
        conv = 'videoconvert' if kind == 'video' else 'audioconvert'
        sink = Gst.parse_bin_from_description(
            f'queue ! {conv} ! identity name=c ! fakesink sync=false', True)
        sink.get_by_name('c').connect('handoff', self.count, kind)
        self.pipe.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad('sink'))

    def on_negotiation_needed(self, _w):
        promise = Gst.Promise.new_with_change_func(self.on_offer, None)
        self.w.emit('create-offer', None, promise)

    def on_offer(self, promise, _data):
        reply = promise.get_reply()
        offer = reply.get_value('offer') if reply and reply.has_field('offer') else None
        if offer is None:
            self.result['error'] = f'create-offer: {reply.to_string() if reply else "no reply"}'
            GLib.idle_add(self.loop.quit)
            return
        self.w.emit('set-local-description', offer, Gst.Promise.new())

    def on_gathering(self, _w, _pspec):
        if self.w.get_property('ice-gathering-state') == GstWebRTC.WebRTCICEGatheringState.COMPLETE \
                and self.result['status'] is None:
            self.result['status'] = 0
            sdp = self.w.get_property('local-description').sdp.as_text()
            threading.Thread(target=self.post, args=(sdp,), daemon=True).start()

    def post(self, sdp):
        headers = {'Content-Type': 'application/sdp'}
        if self.args.token:
            headers['Authorization'] = f'Bearer {self.args.token}'
        url = self.args.url
        for _hop in range(4):  # a 307 (steering to a nearer node) is followed, body and all
            req = urllib.request.Request(url, data=sdp.encode(), headers=headers, method='POST')
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    self.result['status'] = r.status
                    self.location = urllib.parse.urljoin(url, r.headers['Location'])
                    answer = r.read().decode()
                    break
            except urllib.error.HTTPError as e:
                self.result['status'] = e.code
                if e.code in (307, 308) and e.headers.get('Location'):
                    url = urllib.parse.urljoin(url, e.headers['Location'])
                    self.result['redirected_to'] = url
                    continue
                self.result['error'] = e.read().decode()[:300]
                GLib.idle_add(self.loop.quit)
                return
        else:
            GLib.idle_add(self.loop.quit)
            return
        GLib.idle_add(self.apply_answer, answer)

    def apply_answer(self, text):
        _res, msg = GstSdp.SDPMessage.new_from_text(text)
        desc = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
        self.w.emit('set-remote-description', desc, Gst.Promise.new())
        return False

    def on_ice(self, _w, _pspec):
        state = self.w.get_property('ice-connection-state')
        if state in (GstWebRTC.WebRTCICEConnectionState.CONNECTED,
                     GstWebRTC.WebRTCICEConnectionState.COMPLETED):
            self.result['connected'] = True

    def run(self):
        self.pipe.set_state(Gst.State.PLAYING)
        GLib.timeout_add(int(self.args.seconds * 1000), self.loop.quit)
        self.loop.run()
        if self.location:  # end the session as a client should (RFC 9725)
            try:
                urllib.request.urlopen(urllib.request.Request(self.location, method='DELETE'), timeout=5)
            except urllib.error.URLError:
                pass
        self.pipe.set_state(Gst.State.NULL)
        return self.result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['publish', 'view'])
    ap.add_argument('url')
    ap.add_argument('--codec', default='H264', choices=sorted(PUBLISH))
    ap.add_argument('--seconds', type=float, default=6)
    ap.add_argument('--token', default='')
    args = ap.parse_args()
    Gst.init(None)
    result = Client(args).run()
    print(json.dumps(result), flush=True)
    sys.exit(0 if result['status'] == 201 else 1)


if __name__ == '__main__':
    main()
