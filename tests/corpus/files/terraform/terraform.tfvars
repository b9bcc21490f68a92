do_token             = "dop_v1_eb127933ae5f83303623151c1546ef07eb536af0989fd6051e4f266fd6379c2b"
cloudflare_api_token = "AZMMYK5rxJCjUFmb_BGnKn6_DINSrCnR_FMfdIcJ"
ssh_key_fingerprint  = "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"
