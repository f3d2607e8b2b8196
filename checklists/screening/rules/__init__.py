"""One module per family of flags: each turns an intake (and the knowledge) into flags."""
