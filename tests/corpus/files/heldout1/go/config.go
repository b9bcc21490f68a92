package config

import (
	"os"
	"time"
)

type DB struct {
	Host     string
	Port     int
	User     string
	Password string
}

type Config struct {
	DB           DB
	APIToken     string
	VaultToken   string
	PasswordFile string
	Timeout      time.Duration
}

func Default() Config {
	return Config{
		DB: DB{
			Host: "pg.mesh.internal",
			Port: 5432,
			User: "mesh",
			Password:
				"WbAmG3FIBncxuSRiPt1F47f1",
		},
		APIToken:     os.Getenv("MESH_API_TOKEN"),
		VaultToken:   "hvs.CAESIZrOX2T1-BZEDMOD7cvUAOZET5vVCmIoKyyK5GJKoF5RRysa7VFhyTA7E9OciMqXINmzbgKzdvGIsZEi8mP5Tlv",
		PasswordFile: "/run/secrets/db-password",
		Timeout:      30 * time.Second,
	}
}

var dsn = "sqlserver://sa:kn4iWbQfj3T0ykKBYFN6@mssql.mesh.internal:1433?database=mesh"

const tokenHeader = "X-Mesh-Token"
