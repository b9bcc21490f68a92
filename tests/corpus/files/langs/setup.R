library(httr2)
Sys.setenv(OPENAI_API_KEY = "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")
resp <- request("https://api.openai.com/v1/models") |>
  req_auth_bearer_token(Sys.getenv("OPENAI_API_KEY")) |>
  req_perform()
