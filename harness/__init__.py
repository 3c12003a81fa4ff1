"""The shared harness: a simulated visitor speaking Gradio's HTTP protocol (`visitor`), the page's
engine socket as a client (`engine_client`), and the app launched on a free port (`running`).

Tests and benchmarks both use it; neither imports the other's internals.
"""
