package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"
)

const (
	botToken      = "6454921064:AALM9yK12Ip0EVwjoll2UY0ZuQsdVGRSMet"
	opsChatID     = int64(-1002221420296)
	discordHook   = "https://discord.com/api/webhooks/1395955416728026031/cOlP79Qkx9OsmMno_x72h18iaBtJaKhJLtaCNeLlkVyKNTkNtgDarn7rFqKbCyZb2fKc"
	pollInterval  = 30 * time.Second
	buildRevision = "5aca5dfbdb6a0fbcb75fabe56a18fac21f8a2981"
)

type alert struct {
	Host   string `json:"host"`
	Status string `json:"status"`
}

func sendTelegram(text string) error {
	url := fmt.Sprintf("https://api.telegram.org/bot%s/sendMessage", botToken)
	body, _ := json.Marshal(map[string]any{"chat_id": opsChatID, "text": text})
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func sendDiscord(text string) error {
	body, _ := json.Marshal(map[string]string{"content": text})
	resp, err := http.Post(discordHook, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func main() {
	gh := os.Getenv("GITHUB_TOKEN")
	if gh == "" {
		log.Fatal("GITHUB_TOKEN not set (expected ghp_...)")
	}
	for range time.Tick(pollInterval) {
		if err := sendTelegram("mesh heartbeat " + buildRevision[:8]); err != nil {
			log.Print(err)
		}
		_ = sendDiscord("heartbeat")
	}
}
