-- Every posting updates its card. With no index on a column a posting
-- changes, and room left on each page, that update is HOT: a new row version
-- beside the old one, and no new entry in any of the card's indexes.
-- cards_holding_points was on last_activity_at and filtered on
-- points_balance, both changed by nearly every posting, and the inactivity
-- scan it was made for (findCardsWithPointsDue) could not use it: the scan
-- adds each program's own number of days to last_activity_at and tests
-- points_balance + points_debt.
DROP INDEX cards_holding_points;
ALTER TABLE cards SET (fillfactor = 80);
