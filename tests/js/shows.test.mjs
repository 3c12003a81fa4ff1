// The page's pure functions (comedy/web/engine_page/shows.js), as the page runs them: the file is
// evaluated as a script, and its functions are read off the context.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import test from "node:test";
import vm from "node:vm";

const source = readFileSync(new URL("../../comedy/web/engine_page/shows.js", import.meta.url), "utf8");
const page = vm.createContext({});
vm.runInContext(source, page);
const { barWidth, spotlightOpacity, wordsHeard, captionText, laughLamps, newSentences } = page;

test("a level meter fills with the square root of the level, and never past full", () => {
  assert.equal(barWidth(0), 0);
  assert.equal(barWidth(0.01), 18); // a quiet voice: 0.1 of full scale
  assert.equal(barWidth(0.25), 90);
  assert.equal(barWidth(1), 100);
  assert.equal(barWidth(-1), 0); // a bad reading shows nothing, not NaN
});

test("the spotlight is dim at rest and full at a normal voice", () => {
  assert.equal(spotlightOpacity(0), 0.2);
  assert.ok(Math.abs(spotlightOpacity(0.01) - 0.44) < 1e-9);
  assert.equal(spotlightOpacity(1), 1);
});

const words = [
  { text: "So I ", at: 0 },
  { text: "went to ", at: 4800 },
  { text: "the airport", at: 24000 },
];

test("a caption piece shows once the player has played to where it arrived, not before", () => {
  assert.equal(wordsHeard(words, 0, 0), 1);
  assert.equal(wordsHeard(words, 4799, 1), 1);
  assert.equal(wordsHeard(words, 4800, 1), 2);
  assert.equal(wordsHeard(words, 10 * 24000, 0), 3);
  assert.equal(wordsHeard([], 24000, 0), 0);
});

test("what was shown stays shown, even if the player's position goes back", () => {
  assert.equal(wordsHeard(words, 0, 2), 2);
});

test("the caption line holds the last words heard", () => {
  assert.equal(captionText(words, 2, 14), "So I went to");
  assert.equal(captionText(words, 3, 2), "the airport");
  assert.equal(captionText(words, 0, 14), "");
});

test("the lamps light while the room laughs: one a half second, never past ten, not in a quiet room", () => {
  let lit = 0;
  for (let tick = 0; tick < 10; tick++) lit = laughLamps(lit, 0.001, 0.1); // a second of laughter
  assert.ok(Math.abs(lit - 2) < 1e-9);
  assert.equal(laughLamps(lit, 0.00001, 0.1), lit); // a quiet room lights nothing more
  assert.equal(laughLamps(9.9, 0.01, 1), 10);
});

const said = (text, announced) => Array.from(newSentences(text, announced)); // (an array of this realm)

test("a screen reader hears each finished sentence once, not each word", () => {
  assert.deepEqual(said("Airports are", 0), ["", 0]);
  assert.deepEqual(said("Airports are great. My bag", 0), ["Airports are great.", 20]);
  assert.deepEqual(said("Airports are great. My bag", 20), ["", 20]);
  assert.deepEqual(said("Airports are great. My bag left me!", 20), ["My bag left me!", 35]);
  assert.deepEqual(said("Wait… what?", 0), ["Wait… what?", 11]);
});
