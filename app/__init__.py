"""jipiao (计票): secret-ballot election tallying for congresses."""
