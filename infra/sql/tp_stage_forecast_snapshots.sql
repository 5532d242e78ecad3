-- The hub's forecast snapshots in TP_STAGE, and the view that shows each site's latest one in
-- vwFORECAST_CONSOLIDATED's schema (COST_CENTER, PERIOD, IS_SUMMARY_CATEGORY, FD_BALANCE, DW_LOADED_DTTM).
-- Run once in TP_STAGE by a DBA; the hub's login needs SELECT, INSERT, UPDATE and DELETE on both tables.
-- The sandbox SQL Server runs this same file (localdev/sandbox_sql/forecast_snapshots.py), so keep each
-- statement plain: one per batch, no IF or index syntax SQLite lacks. Snapshot ids sort by the time
-- they were calculated, so a site's latest complete snapshot of a year is the greatest id holding it.

CREATE TABLE dbo.HUB_FORECAST_SNAPSHOT (
    SNAPSHOT_ID NVARCHAR(64) NOT NULL PRIMARY KEY,
    CALCULATED_AT DATETIME2(3) NOT NULL,
    FORECAST_YEAR INT NOT NULL,
    INPUT_WATERMARKS NVARCHAR(4000) NOT NULL,
    LINE_COUNT INT NULL,
    COMPLETED_AT DATETIME2(3) NULL
)
GO

CREATE TABLE dbo.HUB_FORECAST_SNAPSHOT_LINE (
    SNAPSHOT_ID NVARCHAR(64) NOT NULL,
    COST_CENTER VARCHAR(10) NOT NULL,
    PERIOD VARCHAR(6) NOT NULL,
    IS_SUMMARY_CATEGORY NVARCHAR(50) NOT NULL,
    FD_BALANCE DECIMAL(18, 2) NOT NULL,
    CONSTRAINT PK_HUB_FORECAST_SNAPSHOT_LINE PRIMARY KEY (SNAPSHOT_ID, COST_CENTER, PERIOD, IS_SUMMARY_CATEGORY)
)
GO

CREATE VIEW dbo.vwHUB_FORECAST_CONSOLIDATED AS
SELECT forecast_line.COST_CENTER, forecast_line.PERIOD, forecast_line.IS_SUMMARY_CATEGORY,
       forecast_line.FD_BALANCE, forecast_head.CALCULATED_AT AS DW_LOADED_DTTM
FROM dbo.HUB_FORECAST_SNAPSHOT_LINE AS forecast_line
JOIN dbo.HUB_FORECAST_SNAPSHOT AS forecast_head ON forecast_head.SNAPSHOT_ID = forecast_line.SNAPSHOT_ID
WHERE forecast_line.SNAPSHOT_ID = (
    SELECT MAX(newer_line.SNAPSHOT_ID)
    FROM dbo.HUB_FORECAST_SNAPSHOT_LINE AS newer_line
    JOIN dbo.HUB_FORECAST_SNAPSHOT AS newer_head ON newer_head.SNAPSHOT_ID = newer_line.SNAPSHOT_ID
    WHERE newer_line.COST_CENTER = forecast_line.COST_CENTER
      AND newer_head.FORECAST_YEAR = forecast_head.FORECAST_YEAR
      AND newer_head.COMPLETED_AT IS NOT NULL
)
GO
