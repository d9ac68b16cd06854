// The site's search runs in a web worker, which a browser does not start for a page opened from
// the disk (file://): the search box would stay at "Initializing search". There, the box is
// removed and the header says how to serve the site (docs/development.md#the-documentation).
(function () {
  if (location.protocol !== "file:") return;
  document.querySelectorAll('[data-md-component="search"], label[for="__search"], #__search')
    .forEach(function (el) { el.remove(); });
  var title = document.querySelector(".md-header__inner");
  if (!title) return;
  var note = document.createElement("a");
  note.className = "zsl-search-note";
  note.href = "development.html#the-documentation";
  note.textContent = "Search: serve the site (mkdocs serve)";
  title.appendChild(note);
})();
