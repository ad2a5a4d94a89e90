"""The shipped themes: data files (one `*.toml` per theme), installed as the
package `assistant.themes` and read by `assistant.ui.themes`."""
