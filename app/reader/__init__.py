"""The paper reader (issue 22): a photo or scan of a printed paper in, proposed marks out.

``locate`` finds the paper by its QR code and printed geometry, ``measure`` takes the voter's ink
out of each box, ``classify`` names the mark and says whether it is sure, ``read`` ties them
together. No image is ever written: everything works on bytes and arrays in memory.
"""
