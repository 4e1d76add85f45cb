"""From ranked chunks to an answer: what counts as one, which sentences, which subject, the words said."""
