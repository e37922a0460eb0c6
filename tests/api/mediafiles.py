"""mediafiles.py - the files the media tests upload, made on the spot.

Photos come from libvips's command line (the vips program of Debian's
libvips-tools): noise, so that they do not compress away, written as JPEG
without metadata; exif_jpeg() then puts an EXIF block in front of the
image data by hand (orientation and a GPS position), as a phone would.
The hostile files are spelled out byte by byte: a PNG whose header claims
100,000 x 100,000 pixels (a few hundred bytes that would decode to 10 GB),
a PDF, an SVG and an HTML page with script, a GIF with an HTML page
behind it.
"""

import os
import struct
import subprocess
import tempfile
import zlib


def vips_image(width, height, suffix, sigma=40, bands=3):
    """The bytes of a noise image of width x height from vips, in the
    format of suffix (".jpg[Q=90,strip]", ".png", ".gif")."""
    with tempfile.TemporaryDirectory() as d:
        planes = []
        for b in range(bands):
            plane = os.path.join(d, "n%d.v" % b)
            subprocess.run(["vips", "gaussnoise", plane, str(width), str(height),
                            "--sigma", str(sigma), "--mean", str(96 + 32 * b)], check=True)
            planes.append(plane)
        joined = os.path.join(d, "j.v")
        if bands > 1:
            subprocess.run(["vips", "bandjoin", " ".join(planes), joined], check=True)
        else:
            joined = planes[0]
        cast = os.path.join(d, "c.v")
        subprocess.run(["vips", "cast", joined, cast, "uchar"], check=True)
        out = os.path.join(d, "out" + suffix.split("[")[0])
        subprocess.run(["vips", "copy", cast, os.path.join(d, "out" + suffix)], check=True)
        with open(out, "rb") as f:
            return f.read()


def _entry(tag, kind, count, value):
    return struct.pack("<HHI", tag, kind, count) + value


def _rationals(*pairs):
    return b"".join(struct.pack("<II", n, d) for n, d in pairs)


def exif_block(orientation=6, lat=(48, 51, 24), lon=(2, 21, 7), serial=b"CAM-SERIAL-4242"):
    """An APP1 EXIF segment: IFD0 with the orientation and the pointer to a
    GPS IFD (latitude and longitude in degrees, minutes, seconds) and an
    Exif IFD with a camera body serial number."""
    ifd0_at, gps_at = 8, 8 + 2 + 3 * 12 + 4
    exif_at = gps_at + 2 + 4 * 12 + 4
    data_at = exif_at + 2 + 1 * 12 + 4
    lat_at, lon_at, serial_at = data_at, data_at + 24, data_at + 48
    ifd0 = struct.pack("<H", 3) + _entry(0x0112, 3, 1, struct.pack("<HH", orientation, 0)) + \
        _entry(0x8769, 4, 1, struct.pack("<I", exif_at)) + \
        _entry(0x8825, 4, 1, struct.pack("<I", gps_at)) + struct.pack("<I", 0)
    gps = struct.pack("<H", 4) + _entry(1, 2, 2, b"N\0\0\0") + \
        _entry(2, 5, 3, struct.pack("<I", lat_at)) + _entry(3, 2, 2, b"E\0\0\0") + \
        _entry(4, 5, 3, struct.pack("<I", lon_at)) + struct.pack("<I", 0)
    serial_z = serial + b"\0"
    exif = struct.pack("<H", 1) + \
        _entry(0xA431, 2, len(serial_z), struct.pack("<I", serial_at)) + struct.pack("<I", 0)
    data = _rationals(*[(v, 1) for v in lat]) + _rationals(*[(v, 1) for v in lon]) + serial_z
    tiff = b"II*\0" + struct.pack("<I", ifd0_at) + ifd0 + gps + exif + data
    body = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def exif_jpeg(width, height, orientation=6):
    """A noise JPEG with an EXIF block: orientation, GPS position, serial."""
    jpeg = vips_image(width, height, ".jpg[Q=92,strip]")
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + exif_block(orientation) + jpeg[2:]


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + \
        struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def png_bomb(width=100000, height=100000):
    """A PNG whose header says width x height 8-bit RGB, with a few rows of
    zeros: a decoder that believed it would want width * height * 3 bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\0" * (1 + 3 * width) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", rows) + \
        _chunk(b"IEND", b"")


def pdf(size=300000):
    """A PDF of about size bytes (a page and a stream of noise)."""
    noise = os.urandom(size)
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
            b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj\n"
            b"4 0 obj << /Length " + str(len(noise)).encode() + b" >> stream\n" + noise +
            b"\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>\n')

HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"


def polyglot_gif():
    """A GIF with an HTML page with script after its end: a GIF to libmagic."""
    return vips_image(64, 48, ".gif", bands=1) + b"<html><script>alert(1)</script></html>"


def multipart(fields, files, boundary="----ruche-test-boundary-7MA4YWxkTrZu0gW"):
    """(body, content type) of a multipart/form-data body: fields a dict
    of text, or a list of (name, text) pairs when a name repeats
    (skills[]), files a list of (name, filename, content type, bytes)."""
    out = []
    for k, v in (fields.items() if isinstance(fields, dict) else fields):
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n" %
                    (boundary, k)).encode() + v.encode("utf-8") + b"\r\n")
    for name, filename, ctype, data in files:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                    "Content-Type: %s\r\n\r\n" % (boundary, name, filename, ctype)).encode() +
                   data + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return b"".join(out), "multipart/form-data; boundary=%s" % boundary


def jpeg_segments(data):
    """The markers of a JPEG's segments before its image data (0xe1 is
    APP1: EXIF or XMP; 0xe2 APP2: an ICC profile), read from its
    structure, not by searching its bytes (noise can hold any string)."""
    markers, i = [], 2
    while i + 4 <= len(data) and data[i] == 0xff:
        marker = data[i + 1]
        markers.append(marker)
        if marker == 0xda:  # start of scan: the image data follows
            break
        i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    return markers
