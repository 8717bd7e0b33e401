// Renders the gateway's AsyncAPI document with the options the page carries in #asyncapi-options.
"use strict";
(function () {
  var options = JSON.parse(document.getElementById("asyncapi-options").textContent);
  fetch(options.url, { headers: { Accept: "application/json" } })
    .then(function (response) { return response.text(); })
    .then(function (text) {
      AsyncApiStandalone.render(
        { schema: text, config: { show: { sidebar: true }, sidebar: { showServers: "byDefault" } } },
        document.getElementById("asyncapi")
      );
    });
})();
