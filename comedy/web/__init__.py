"""The web: the club app with its doors (`club_app.ClubApp`), Gradio's handlers (`gradio_web`,
`gradio_voices`, `gradio_speech`), the audio engine's socket (`engine`, `engine_frames`) and page
(`engine_page`), what the page shows (`page_view`, `page_wire`, `look`) and how it is served (`serving`)."""

__all__ = [
    "club_app",
    "engine",
    "gradio_voices",
    "gradio_web",
    "page_view",
    "serving",
]
