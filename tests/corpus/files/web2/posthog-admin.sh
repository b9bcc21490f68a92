#!/bin/sh
curl -s -H "Authorization: Bearer phx_aasmuFZzm89ANXQGI8WSeodWiKNLWrmMA89pBdhzyd6Fw8O" https://eu.posthog.com/api/projects/
