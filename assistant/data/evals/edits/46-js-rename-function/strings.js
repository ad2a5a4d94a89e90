function cap(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function titleCase(text) {
  return text.split(" ").map(cap).join(" ");
}

module.exports = { cap, titleCase };
