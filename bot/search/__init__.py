"""From text to ranked chunks: chunking, analysis, BM25, the index on disk, the question's terms."""
