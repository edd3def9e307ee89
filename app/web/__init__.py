"""Browser pages (the teller tablet) and their static assets, served without a CDN."""
