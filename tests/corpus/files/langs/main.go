package main

import (
	"database/sql"
	"log"

	"github.com/go-sql-driver/mysql"
)

func main() {
	cfg := mysql.Config{
		User:   "relay",
		Passwd: "FFRsgjcFrgIHyZ2eOk",
		Net:    "tcp",
		Addr:   "db.mesh.internal:3306",
		DBName: "relay",
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
}
