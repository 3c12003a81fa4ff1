"""Gradio's side of the voices: a voice's preview in the settings, and the voice battle (two
voices, one bit, a vote once both have played, and the leaderboard): its tab and its events."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from comedy.choices import VOICE_CHARACTERS, VOICE_LABELS
from comedy.realtime import protocol
from comedy.realtime.session import RealtimeError
from comedy.venue.audition import one_after_another
from comedy.venue.club import ClubFull
from comedy.venue.takes import BATTLE_LINE, PREVIEW_LINE
from comedy.web import page_view
from comedy.web.club_app import ClubApp
from comedy.web.gradio_web import choice_input, playable, refused
from comedy.web.serving import TAKES, long_event


class Voices:
    """The preview's and the battle's events, one method each."""

    def __init__(self, app: ClubApp) -> None:
        self.app = app

    # --- a voice's preview (the settings)

    async def audition_one(self, request: gr.Request, voice: str, style: str, model: str):
        """One voice says the club's preview line: the take, and what happened in words."""
        if voice not in protocol.VOICES:
            return gr.skip(), "Pick one of the voices."
        try:
            auditioner = await self.app.studio.audition_take(
                request.session_hash, voice, style, PREVIEW_LINE, model
            )
        except (ClubFull, RealtimeError) as exc:
            return gr.skip(), refused(exc)
        where = "from the cache" if auditioner.hits else "new take"
        return playable(auditioner.took), f"{voice}: ready ({where})."

    # --- the voice battle

    async def battle(self, request: gr.Request, first: str, second: str, style: str, model: str):
        """Two voices do the club's bit, one after the other; once both have played, the visitor
        may vote."""
        if first == second or first not in protocol.VOICES or second not in protocol.VOICES:
            return gr.skip(), gr.skip(), gr.skip(), "Pick two different voices."
        takes: list[Path] = []
        for voice in (first, second):
            try:
                auditioner = await self.app.studio.audition_take(
                    request.session_hash, voice, style, BATTLE_LINE, model
                )
            except (ClubFull, RealtimeError) as exc:
                return gr.skip(), gr.skip(), gr.skip(), refused(exc, f"{voice}: ")
            takes.append(auditioner.took)
        both = one_after_another(takes)
        self.app.seen(request.session_hash)
        self.app.ballots.served(request.session_hash, style, first, second, len(both) / protocol.SAMPLE_RATE)
        said = f"{first}, then {second}, in a {style} style. Who did it better? Vote once both have played."
        return playable(takes[0]), playable(takes[1]), (protocol.SAMPLE_RATE, both), said

    async def battle_played(self, request: gr.Request) -> tuple:
        """The page played both takes of the battle through: the vote opens (its buttons too)."""
        if self.app.ballots.played(request.session_hash):
            opened = gr.Button(interactive=True)
            return "Both voices have played: who did it better? Vote below.", opened, opened
        return gr.skip(), gr.skip(), gr.skip()

    async def vote_first(self, request: gr.Request) -> tuple:
        """The first voice won."""
        return await self._vote(request, first_won=True)

    async def vote_second(self, request: gr.Request) -> tuple:
        """The second voice won."""
        return await self._vote(request, first_won=False)

    async def _vote(self, request: gr.Request, first_won: bool) -> tuple:
        try:
            style, winner = await self.app.vote(request.session_hash, first_won)
        except ValueError as exc:
            return gr.skip(), str(exc)  # no vote to cast: said, and the board stays as it is
        return await self.leaderboard(
            style
        ), f"Your vote for {winner.title()} is in: see the {style} leaderboard below."

    async def leaderboard(self, style: str) -> str:
        """The voices that have fought in a style, best first, from every visitor's votes."""
        standings = await asyncio.to_thread(self.app.votes.standings, style)
        return page_view.standings_list(standings, VOICE_CHARACTERS)


def battle_tab() -> SimpleNamespace:
    """Two voices, the club's bit, one after the other; the visitor votes once both have played; a
    leaderboard per style."""
    tab = SimpleNamespace()
    with gr.Column(elem_id="battle"):
        gr.Markdown(
            f"## Voice battle\nTwo voices do the same bit in your style: *\u201c{BATTLE_LINE}\u201d* "
            "Listen to both, then vote for the funnier one."
        )
        with gr.Row():
            named = [(VOICE_LABELS[v], v) for v in protocol.VOICES]
            tab.first = choice_input(gr.Dropdown(named, value="marin", label="First voice"))
            tab.second = choice_input(gr.Dropdown(named, value="cedar", label="Second voice"))
        tab.fight = gr.Button("Battle", elem_id="battle-go")
        tab.both = gr.Audio(
            label="Both, one after the other", autoplay=True, interactive=False, elem_id="battle-both"
        )
        with gr.Row(equal_height=True):
            with gr.Column():
                tab.first_take = gr.Audio(label="First voice", interactive=False)
                tab.first_won = gr.Button("Marin was funnier", elem_id="vote-first", interactive=False)
            with gr.Column():
                tab.second_take = gr.Audio(label="Second voice", interactive=False)
                tab.second_won = gr.Button("Cedar was funnier", elem_id="vote-second", interactive=False)
        tab.status = gr.Markdown("", elem_id="battle-status")
        gr.Markdown("### Leaderboard for this style")
        tab.board = gr.HTML("", elem_id="leaderboard")
    return tab


def _funnier(voice: str) -> gr.Button:
    """A vote button that names its voice (closed until both voices have played)."""
    return gr.Button(f"{voice.title()} was funnier", interactive=False)


def _votes_closed() -> tuple[gr.Button, gr.Button]:
    """A new battle: no vote until both of its voices have played."""
    return gr.Button(interactive=False), gr.Button(interactive=False)


def wire_battle(demo: gr.Blocks, voices: Voices, choices: dict, tab: SimpleNamespace) -> None:
    """The battle's events: the fight, its votes (closed until both voices played), the board."""
    style, model = choices["style"], choices["model"]
    outputs = [tab.first_take, tab.second_take, tab.both, tab.status]
    inputs = [tab.first, tab.second, style, model]
    tab.fight.click(
        voices.battle, inputs, outputs, api_name="battle", **long_event(TAKES, voices.app.settings.max_sets)
    )
    votes = [tab.first_won, tab.second_won]
    tab.fight.click(_votes_closed, None, votes, api_visibility="private", queue=False)
    tab.both.stop(
        voices.battle_played, None, [tab.status, *votes], api_name="battle_played", api_visibility="private"
    )
    tab.first_won.click(voices.vote_first, None, [tab.board, tab.status], api_name="vote_first")
    tab.second_won.click(voices.vote_second, None, [tab.board, tab.status], api_name="vote_second")
    gr.on([demo.load, style.change], voices.leaderboard, style, tab.board, api_visibility="private")
    for voice, vote in ((tab.first, tab.first_won), (tab.second, tab.second_won)):  # name the voice
        voice.change(_funnier, voice, vote, api_visibility="private", queue=False)
