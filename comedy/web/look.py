"""The club's look: its CSS, icons, theme and the few lines of page script Gradio runs (the header's
drawer, the fallback player's flush, the dark room)."""

from __future__ import annotations

import gradio as gr

CSS = """
footer {display: none !important}
#header {padding: 0}
.house-header {display: flex; align-items: center; gap: 12px; height: 48px}
.wordmark {display: flex; align-items: center; gap: 8px; font-size: 20px; font-weight: 800}
.wordmark svg {width: 26px; height: 26px}
.pill {padding: 3px 10px; border-radius: 999px; font-size: 13px; font-weight: 600;
  background: #3a3a42; color: #e8e3d6}
.pill.live {background: #f5b301; color: #17120a}
.house-header .spacer {flex: 1}
.house-header button {display: inline-flex; align-items: center; gap: 6px; min-height: 40px; padding: 0 12px;
  border-radius: 20px; border: 1px solid #4a4a55; background: transparent; color: inherit; cursor: pointer}
.house-header button svg {width: 20px; height: 20px}
#battle {display: none}
#leaderboard .standings {margin: 0; padding-left: 1.6em; font-size: 16px; line-height: 1.7}
#leaderboard .voice {font-weight: 700}
#leaderboard .character, #leaderboard .standings-empty {opacity: 0.75}
#leaderboard .record {margin-left: 6px}
#laugh-meter .applause {padding: 10px 12px}
#laugh-meter .applause-title {font-weight: 700; letter-spacing: 0.08em; text-transform: uppercase}
#laugh-meter .lamps {display: flex; gap: 5px; margin: 8px 0}
#laugh-meter .lamp {flex: 1; height: 20px; border-radius: 4px; background: #2a2a31}
#laugh-meter .lamp.on {background: linear-gradient(#ffd24a, #f59e0b); box-shadow: 0 0 10px #f5b301}
#filter-chip .chip {display: inline-block; padding: 2px 10px; border-radius: 999px;
  background: #7f1d1d; color: #fff; font-weight: 600}
.mic-check {min-height: 40px; padding: 0 14px; border-radius: 20px; border: 1px solid #4a4a55;
  background: transparent; color: inherit; cursor: pointer}
.wordmark {white-space: nowrap}
#settings:not(.open) > .toggle-button {display: none}
#show-news, #speech-channel, #filter-chip:not(:has(.chip)) {display: none !important}
.house-header button {min-height: 44px; min-width: 44px; justify-content: center}
:focus-visible {outline: 3px solid #f5b301 !important; outline-offset: 2px}
.engine-facts {margin: 0 0 8px; font-size: 14px; opacity: 0.85}
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after {animation: none !important; transition: none !important;
    scroll-behavior: auto !important}
}
@media (max-width: 640px) {
  .pill .more {display: none}
  .house-header {gap: 6px}
  .wordmark {font-size: 16px; gap: 4px}
  .house-header button {padding: 0 9px}
  .battle-toggle .what {display: none}
}
"""
MIC_ICON = (
    '<svg viewBox="0 0 24 24" aria-hidden="true"><rect x="9" y="2" width="6" height="12" rx="3" '
    'fill="#f5b301"/><path d="M6 11a6 6 0 0 0 12 0M12 17v4M8 21h8" fill="none" stroke="#f5b301" '
    'stroke-width="2" stroke-linecap="round"/></svg>'
)
BATTLE_ICON = (
    '<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="8.5" cy="12" r="5.5" fill="none" '
    'stroke="currentColor" stroke-width="2"/><circle cx="15.5" cy="12" r="5.5" fill="none" '
    'stroke="#f5b301" stroke-width="2"/></svg>'
)
GEAR_ICON = (  # Lucide's "settings" (ISC licence): a gear, not a sun
    '<svg viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" '
    'stroke-linecap="round" stroke-linejoin="round"><path d="M12.22 2h-.44a2 2 0 0 0-2 2v.18a2 2 0 0 '
    "1-1 1.73l-.43.25a2 2 0 0 1-2 0l-.15-.08a2 2 0 0 0-2.73.73l-.22.38a2 2 0 0 0 .73 2.73l.15.1a2 2 0 0 "
    "1 1 1.72v.51a2 2 0 0 1-1 1.74l-.15.09a2 2 0 0 0-.73 2.73l.22.38a2 2 0 0 0 2.73.73l.15-.08a2 2 0 0 1 "
    "2 0l.43.25a2 2 0 0 1 1 1.73V20a2 2 0 0 0 2 2h.44a2 2 0 0 0 2-2v-.18a2 2 0 0 1 1-1.73l.43-.25a2 2 0 "
    "0 1 2 0l.15.08a2 2 0 0 0 2.73-.73l.22-.39a2 2 0 0 0-.73-2.73l-.15-.08a2 2 0 0 1-1-1.74v-.5a2 2 0 0 1 "
    "1-1.74l.15-.09a2 2 0 0 0 .73-2.73l-.22-.38a2 2 0 0 0-2.73-.73l-.15.08a2 2 0 0 1-2 0l-.43-.25a2 2 0 0 "
    '1-1-1.73V4a2 2 0 0 0-2-2z"/><circle cx="12" cy="12" r="3"/></svg>'
)
# The header's buttons: the battle view (shown in place of the show), and the settings sidebar.
HEADER_JS = """
element.querySelector('.battle-toggle').addEventListener('click', () => {
  const on = document.querySelector('#battle').style.display !== 'flex';
  document.querySelector('#battle').style.display = on ? 'flex' : 'none';
  document.querySelector('#show-row').style.display = on ? 'none' : '';
  element.querySelector('.battle-toggle .what').textContent = on ? 'Back to the show' : 'Battle';
});
const gear = element.querySelector('.settings-toggle');
gear.addEventListener('click', () => {
  const toggle = document.querySelector('#settings .toggle-button')
    || document.querySelector('button[aria-label="Toggle Sidebar"]');
  if (toggle) toggle.click();
});
// A closed drawer is out of reach: Tab never walks into its controls (inert), and the gear says
// whether it is open. Escape closes it.
(function watchDrawer() {
  const drawer = document.querySelector('#settings');
  const content = drawer?.querySelector('.sidebar-content');
  if (!content) { requestAnimationFrame(watchDrawer); return; }
  const sync = () => {
    const open = drawer.classList.contains('open');
    content.inert = !open;
    gear.setAttribute('aria-expanded', String(open));
  };
  new MutationObserver(sync).observe(drawer, { attributes: true, attributeFilter: ['class'] });
  sync();
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && drawer.classList.contains('open')) {
      drawer.querySelector('.toggle-button')?.click();
      gear.focus();
    }
  });
})();
"""
# On a heckle the server has stopped, but the browser still holds ~0.7 s: skip to its end.
FLUSH_JS = """() => { const a = document.querySelector('#speaker audio');
  if (a && a.buffered.length) a.currentTime = a.buffered.end(a.buffered.length - 1); }"""

THEME = gr.themes.Default(
    primary_hue="amber",
    neutral_hue="zinc",
    font=["ui-sans-serif", "system-ui", "sans-serif"],  # no web font: the Space loads nothing from elsewhere
    font_mono=["ui-monospace", "monospace"],
).set(body_text_size="17px", block_title_text_size="16px")
DARK_JS = "() => { document.body.classList.add('dark'); }"  # the club is dark whatever the system says
