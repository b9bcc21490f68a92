#!/bin/sh
exec openclaw gateway --port 18789 --bind loopback --token "b1db18cdff576b5d7e1cc62ad60b4cf727737601921afba4" --verbose
