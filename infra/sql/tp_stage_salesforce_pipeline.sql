-- The hub's weighted Salesforce pipeline in TP_STAGE, for Power BI: one row per stage, region and expected
-- opening month, with the opportunities' count, amount and weighted amount (amount x probability / 100).
-- Run once in TP_STAGE by a DBA; the hub's login needs SELECT, INSERT, UPDATE and DELETE on the table.
-- The sandbox SQL Server runs this same file (localdev/sandbox_sql/salesforce_pipeline.py), so keep each
-- statement plain: one per batch. REGION and OPENING_MONTH are '' when the opportunity names none (a key
-- column cannot be NULL); OPENING_MONTH is otherwise 'YYYY-MM'.

CREATE TABLE dbo.HUB_SALESFORCE_PIPELINE (
    STAGE NVARCHAR(40) NOT NULL,
    REGION NVARCHAR(80) NOT NULL,
    OPENING_MONTH VARCHAR(7) NOT NULL,
    OPPORTUNITIES INT NOT NULL,
    AMOUNT DECIMAL(18, 2) NOT NULL,
    WEIGHTED_AMOUNT DECIMAL(18, 2) NOT NULL,
    UPDATED_AT DATETIME2(3) NOT NULL,
    CONSTRAINT PK_HUB_SALESFORCE_PIPELINE PRIMARY KEY (STAGE, REGION, OPENING_MONTH)
)
GO
