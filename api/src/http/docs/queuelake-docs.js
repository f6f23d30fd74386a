// The API description needs a token like every other API route: ask for
// it, keep it for this tab only, and send it with every request the page
// makes (the description itself and "Try it out").
(function () {
  const form = document.getElementById("signin");
  const input = document.getElementById("token");
  const status = document.getElementById("status");

  function open(token) {
    status.textContent = "";
    window.ui = SwaggerUIBundle({
      url: "/api/v1/openapi.json",
      dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "BaseLayout",
      requestInterceptor: function (request) {
        request.headers["Authorization"] = "Bearer " + token;
        return request;
      },
      responseInterceptor: function (response) {
        if (response.url.endsWith("/api/v1/openapi.json") && response.status === 401) {
          status.textContent = "unknown token";
          sessionStorage.removeItem("queuelake-token");
        }
        return response;
      },
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const token = input.value.trim();
    if (token) {
      sessionStorage.setItem("queuelake-token", token);
      open(token);
    }
  });

  const saved = sessionStorage.getItem("queuelake-token");
  if (saved) {
    input.value = saved;
    open(saved);
  }
})();
