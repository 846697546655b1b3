"""Everything that talks to ffmpeg: binaries, probing, streaming frames."""
