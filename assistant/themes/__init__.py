"""The shipped themes: data files (one `*.toml` per theme), read by
`assistant.ui.themes`. The top-level `themes` is a link to this folder, so a
person browsing the repository finds them there."""
