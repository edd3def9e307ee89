"""Hall mode (会场模式, ``jipiao serve --hall``): one laptop in the hall, tablets on its Wi-Fi.

A tablet's browser allows the camera and the offline service worker only in a secure context:
``https``, or ``localhost`` — never ``http://192.168.…``. So in hall mode the service finds the
laptop's LAN address (``address``), makes a certificate authority of its own once and a server
certificate for that address (``tls``), serves https on that address, and on the next port plain
http that redirects to https except for the CA page (``router``, ``redirect``): a tablet opens
``http://…/ca`` before it trusts the CA, installs the certificate, and from then on uses https.
"""
