// The page's wire: the `type` of every text message between the page and the server (the same
// names as comedy/web/page_wire.py; a test holds them equal).
const WIRE = Object.freeze({
  AUDIO: "audio",
  CUT: "cut",
  HOLD: "hold",
  RESUME: "resume",
  END: "end",
  WORDS: "words",
  REFUSED: "refused",
  PLAYED: "played",
  STARTED: "started",
});
